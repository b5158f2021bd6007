using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>
/// A recorded fake of Qdrant's REST API on 127.0.0.1: the endpoints the semantic cache calls, answering in the
/// response shapes of Qdrant's API reference (<c>{"result": …, "status": "ok", "time": …}</c>, errors as
/// <c>{"status": {"error": …}}</c> with 400/404/409). It is not a Qdrant: it keeps points in memory and scores them
/// with exact cosine (no quantization), applies only the filters the cache sends (a keyword match, a range), and
/// records every request so tests can check the calls. No real Qdrant runs in this project's tests.
/// </summary>
public sealed class FakeQdrant : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Collection> _collections = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Call> _calls = new();
    private long _operation;

    private FakeQdrant(WebApplication app)
    {
        _app = app;
    }

    public string Url => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    public IReadOnlyList<Call> Calls => [.. _calls];

    /// <summary>Answer every request with 503 (Qdrant down).</summary>
    public bool Down { get; set; }

    public int PointsIn(string collection) => _collections.TryGetValue(collection, out var c) ? c.Points.Count : 0;

    public static async Task<FakeQdrant> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeQdrant(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync();
        var path = request.Path.Value ?? "/";
        _calls.Enqueue(new Call(request.Method, path + request.QueryString, text, request.Headers["api-key"].ToString()));
        if (Down)
        {
            context.Response.StatusCode = 503;
            return;
        }

        var body = text.Length == 0 ? null : JsonNode.Parse(text);
        var parts = path.Trim('/').Split('/');
        if (parts.Length < 2 || parts[0] != "collections")
        {
            await ErrorAsync(context, 404, "Not found");
            return;
        }

        var name = Uri.UnescapeDataString(parts[1]);
        var rest = string.Join('/', parts.Skip(2));
        switch (request.Method, rest)
        {
            case ("GET", "exists"):
                await OkAsync(context, new JsonObject { ["exists"] = _collections.ContainsKey(name) });
                break;
            case ("GET", ""):
                if (!_collections.TryGetValue(name, out var info))
                {
                    await ErrorAsync(context, 404, $"Not found: Collection `{name}` doesn't exist!");
                    break;
                }

                await OkAsync(context, new JsonObject
                {
                    ["status"] = "green",
                    ["optimizer_status"] = "ok",
                    ["points_count"] = info.Points.Count,
                    ["config"] = new JsonObject { ["params"] = new JsonObject { ["vectors"] = new JsonObject { ["size"] = info.Size, ["distance"] = "Cosine" } } },
                });
                break;
            case ("PUT", ""):
                var size = body!["vectors"]!["size"]!.GetValue<int>();
                if (!_collections.TryAdd(name, new Collection(size)))
                {
                    await ErrorAsync(context, 409, $"Wrong input: Collection `{name}` already exists!");
                    break;
                }

                await OkAsync(context, JsonValue.Create(true));
                break;
            case ("DELETE", ""):
                await OkAsync(context, JsonValue.Create(_collections.TryRemove(name, out _)));
                break;
            case ("PUT", "index"):
                await OperationAsync(context);
                break;
            case ("PUT", "points"):
                await UpsertAsync(context, name, body!);
                break;
            case ("POST", "points/search"):
                await SearchAsync(context, name, body!);
                break;
            case ("POST", "points/delete"):
                await DeleteAsync(context, name, body!);
                break;
            default:
                await ErrorAsync(context, 404, "Not found");
                break;
        }
    }

    private async Task UpsertAsync(HttpContext context, string name, JsonNode body)
    {
        if (!_collections.TryGetValue(name, out var collection))
        {
            await ErrorAsync(context, 404, $"Not found: Collection `{name}` doesn't exist!");
            return;
        }

        foreach (var point in body["points"]!.AsArray())
        {
            var vector = point!["vector"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            if (vector.Length != collection.Size)
            {
                await ErrorAsync(context, 400, $"Wrong input: Vector dimension error: expected dim: {collection.Size}, got {vector.Length}");
                return;
            }

            collection.Points[point["id"]!.GetValue<string>()] = new Point(vector, point["payload"]!.AsObject().DeepClone().AsObject());
        }

        await OperationAsync(context);
    }

    private async Task SearchAsync(HttpContext context, string name, JsonNode body)
    {
        if (!_collections.TryGetValue(name, out var collection))
        {
            await ErrorAsync(context, 404, $"Not found: Collection `{name}` doesn't exist!");
            return;
        }

        var query = body["vector"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        var limit = body["limit"]?.GetValue<int>() ?? 10;
        var results = new JsonArray();
        foreach (var (id, point) in collection.Points.Where(p => Matches(p.Value.Payload, body["filter"]))
            .Select(p => (p.Key, p.Value)).OrderByDescending(p => Cosine(query, p.Value.Vector)).Take(limit))
        {
            results.Add(new JsonObject
            {
                ["id"] = id,
                ["version"] = 1,
                ["score"] = Cosine(query, point.Vector),
                ["payload"] = body["with_payload"]?.GetValue<bool>() == true ? point.Payload.DeepClone() : null,
            });
        }

        await OkAsync(context, results);
    }

    private async Task DeleteAsync(HttpContext context, string name, JsonNode body)
    {
        if (!_collections.TryGetValue(name, out var collection))
        {
            await ErrorAsync(context, 404, $"Not found: Collection `{name}` doesn't exist!");
            return;
        }

        if (body["points"] is JsonArray ids)
        {
            foreach (var id in ids)
            {
                collection.Points.TryRemove(id!.GetValue<string>(), out _);
            }
        }
        else
        {
            foreach (var (id, point) in collection.Points)
            {
                if (Matches(point.Payload, body["filter"]))
                {
                    collection.Points.TryRemove(id, out _);
                }
            }
        }

        await OperationAsync(context);
    }

    // The two conditions the cache uses: {"key", "match": {"value"}} and {"key", "range": {"lt"}}, all under "must".
    private static bool Matches(JsonObject payload, JsonNode? filter)
    {
        if (filter?["must"] is not JsonArray must)
        {
            return true;
        }

        foreach (var condition in must)
        {
            var value = payload[condition!["key"]!.GetValue<string>()];
            if (condition["match"] is { } match && value?.ToJsonString() != match["value"]!.ToJsonString())
            {
                return false;
            }

            if (condition["range"]?["lt"] is { } lt && (value is null || value.GetValue<double>() >= lt.GetValue<double>()))
            {
                return false;
            }
        }

        return true;
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }

    private Task OperationAsync(HttpContext context) =>
        OkAsync(context, new JsonObject { ["operation_id"] = Interlocked.Increment(ref _operation), ["status"] = "completed" });

    private static Task OkAsync(HttpContext context, JsonNode? result) =>
        WriteAsync(context, 200, new JsonObject { ["result"] = result, ["status"] = "ok", ["time"] = 0.000123 });

    private static Task ErrorAsync(HttpContext context, int status, string message) =>
        WriteAsync(context, status, new JsonObject { ["status"] = new JsonObject { ["error"] = message }, ["time"] = 0.000045 });

    private static async Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public sealed record Call(string Method, string Path, string Body, string ApiKey)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    }

    private sealed record Collection(int Size)
    {
        public ConcurrentDictionary<string, Point> Points { get; } = new(StringComparer.Ordinal);
    }

    private sealed record Point(float[] Vector, JsonObject Payload);
}
