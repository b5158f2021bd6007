using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Admin.Keys;

namespace Proxy.Admin.Api;

/// <summary>
/// A management request's JSON object, read field by field with LiteLLM's names: each reader answers null when the
/// field is absent or null, and the first wrong type or value is kept in <see cref="Error"/> (with its field in
/// <see cref="ErrorParam"/>) for one 400. Read from a JsonDocument: admin calls are rare, and nothing is reflected.
/// </summary>
internal sealed class TenantBody : IDisposable
{
    private readonly JsonDocument _document;

    private TenantBody(JsonDocument document) => _document = document;

    public JsonElement Root => _document.RootElement;

    public string? Error { get; private set; }

    public string? ErrorParam { get; private set; }

    /// <summary>The body, or null after writing the 400 (not JSON, or not an object).</summary>
    public static async Task<TenantBody?> ReadAsync(HttpContext context, IOpenAiErrorWriter errors)
    {
        JsonDocument document;
        try
        {
            document = context.Request.ContentLength is 0 ? JsonDocument.Parse("{}") : await JsonDocument.ParseAsync(context.Request.Body, AdminJson.BodyOptions, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await errors.WriteAsync(context, GatewayError.InvalidJson(ex.Message));
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            await errors.WriteAsync(context, GatewayError.NotAnObject());
            return null;
        }

        return new TenantBody(document);
    }

    public bool Has(string name) => Root.TryGetProperty(name, out _);

    public bool TryGet(string name, out JsonElement value) => Root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    public string? String(string name, int maxLength = 1024)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return Fail(name, $"{name} must be a string");
        }

        var text = value.GetString()!;
        return text.Length > maxLength ? Fail(name, $"{name} must be at most {maxLength} characters") : text;
    }

    /// <summary>A required id: present, a non-empty string.</summary>
    public string? Id(string name)
    {
        var id = String(name, 256);
        if (Error is null && string.IsNullOrWhiteSpace(id))
        {
            Fail(name, $"Pass '{name}' (a non-empty string).");
        }

        return id;
    }

    public double? Money(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (!AdminJson.TryReadNumber(value, out var number))
        {
            Fail(name, $"{name} must be a number");
            return null;
        }

        if (number < 0)
        {
            Fail(name, $"{name} must be >= 0");
            return null;
        }

        return number;
    }

    public long? Whole(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < 0)
        {
            Fail(name, $"{name} must be a whole number >= 0");
            return null;
        }

        return number;
    }

    public bool? Flag(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Fail(name, $"{name} must be true or false");
            return null;
        }

        return value.GetBoolean();
    }

    /// <summary>A list of strings; a single string is taken as a list of one (LiteLLM's delete calls accept both).</summary>
    public string[]? Strings(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Fail(name, $"{name} must be a list of strings");
            return null;
        }

        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                Fail(name, $"{name} must be a list of strings");
                return null;
            }

            list.Add(item.GetString()!);
        }

        return [.. list];
    }

    /// <summary>A JSON object's text (metadata); absent or null gives null.</summary>
    public string? Object(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object ? value.GetRawText() : Fail(name, $"{name} must be a JSON object");
    }

    /// <summary>budget_duration: "30s", "30m", "30h", "30d", "1mo".</summary>
    public string? Duration(string name)
    {
        var text = String(name, 32);
        if (text is not null && !BudgetDuration.TryParse(text, out _))
        {
            return Fail(name, $"{name} must look like \"30s\", \"30m\", \"30h\", \"30d\" or \"1mo\"");
        }

        return text;
    }

    /// <summary>model_max_budget, validated; its JSON text.</summary>
    public string? ModelMaxBudget(string name = "model_max_budget")
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        Budgets.ModelBudget.Parse(value, out var error);
        return error is null ? value.GetRawText() : Fail(name, error);
    }

    public string? Fail(string param, string message)
    {
        if (Error is null)
        {
            Error = message;
            ErrorParam = param;
        }

        return null;
    }

    public void Dispose() => _document.Dispose();
}
