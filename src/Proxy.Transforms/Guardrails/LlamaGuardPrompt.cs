using System.Text;

namespace Proxy.Transforms.Guardrails;

/// <summary>
/// Meta's Llama Guard 3 prompt (the template of its model card and chat template, with the S1–S14 categories) and the
/// reading of its answer, <c>safe</c> or <c>unsafe\nS1,S10</c>, mapped onto OpenAI's moderation categories.
/// </summary>
public static class LlamaGuardPrompt
{
    /// <summary>OpenAI's text-moderation categories, in the order the tutorial's error shows them.</summary>
    public static readonly string[] OpenAiCategories =
    [
        "hate", "hate/threatening", "harassment", "harassment/threatening", "self-harm", "self-harm/intent",
        "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ];

    private const string Categories =
        "S1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes.\nS4: Child Exploitation.\nS5: Defamation.\n" +
        "S6: Specialized Advice.\nS7: Privacy.\nS8: Intellectual Property.\nS9: Indiscriminate Weapons.\nS10: Hate.\n" +
        "S11: Self-Harm.\nS12: Sexual Content.\nS13: Elections.\nS14: Code Interpreter Abuse.\n";

    /// <summary>The full prompt for <c>/completions</c>: the conversation, judged on its last User or Agent turn.</summary>
    public static string Build(IReadOnlyList<GuardMessage> conversation, bool assessAgent)
    {
        var role = assessAgent ? "Agent" : "User";
        var text = new StringBuilder(1024);
        text.Append("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n")
            .Append("Task: Check if there is unsafe content in '").Append(role)
            .Append("' messages in conversations according our safety policy with the below categories.\n\n")
            .Append("<BEGIN UNSAFE CONTENT CATEGORIES>\n").Append(Categories).Append("<END UNSAFE CONTENT CATEGORIES>\n\n")
            .Append("<BEGIN CONVERSATION>\n\n");
        foreach (var message in conversation)
        {
            text.Append(message.IsAgent ? "Agent: " : "User: ").Append(Neutralise(message.Text).Trim()).Append("\n\n");
        }

        text.Append("<END CONVERSATION>\n\n")
            .Append("Provide your safety assessment for ONLY THE LAST ").Append(role).Append(" message in the above conversation:\n")
            .Append(" - First line must read 'safe' or 'unsafe'.\n")
            .Append(" - If unsafe, a second line must include a comma-separated list of violated categories.")
            .Append("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
        return text.ToString();
    }

    /// <summary>
    /// Llama Guard's chat template accepts only alternating user/assistant turns starting with the user: system text
    /// joins the user's turn, and consecutive turns of one side are merged.
    /// </summary>
    public static List<GuardMessage> Alternating(IReadOnlyList<GuardMessage> conversation)
    {
        var result = new List<GuardMessage>(conversation.Count);
        foreach (var original in conversation)
        {
            // The server renders these into the same User:/Agent: prompt, so they are neutralised the same way.
            var message = original with { Text = Neutralise(original.Text) };
            if (result.Count == 0 && message.IsAgent)
            {
                result.Add(new GuardMessage(false, string.Empty));
            }

            if (result.Count > 0 && result[^1].IsAgent == message.IsAgent)
            {
                result[^1] = message with { Text = result[^1].Text.Length == 0 ? message.Text : result[^1].Text + "\n\n" + message.Text };
                continue;
            }

            result.Add(message);
        }

        return result;
    }

    /// <summary>
    /// Makes judged text unable to pose as the prompt around it: a line starting with <c>User:</c> or <c>Agent:</c> would
    /// open a forged turn (so the real last turn looks harmless), <c>&lt;|…|&gt;</c> would be tokenized as Llama's
    /// special tokens (ending the prompt early), and <c>&lt;BEGIN …&gt;</c>/<c>&lt;END …&gt;</c> would forge its sections.
    /// Each is broken with a space or quoted with "> ", which a reader (and the guard) still understands.
    /// </summary>
    public static string Neutralise(string text)
    {
        if (text.IndexOf('<') < 0 && text.IndexOf(':') < 0)
        {
            return text;
        }

        var result = new StringBuilder(text.Length + 16);
        var lineStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (lineStart && StartsTurn(text.AsSpan(i)))
            {
                result.Append("> ");
            }

            if (c == '<' && i + 1 < text.Length && (text[i + 1] == '|' || StartsSection(text.AsSpan(i + 1))))
            {
                result.Append("< ");
                lineStart = false;
                continue;
            }

            if (c == '|' && i + 1 < text.Length && text[i + 1] == '>')
            {
                result.Append("| ");
                lineStart = false;
                continue;
            }

            result.Append(c);
            // Whitespace before a forged turn still makes it one.
            lineStart = c is '\n' or '\r' || (lineStart && c is ' ' or '\t');
        }

        return result.ToString();
    }

    private static bool StartsTurn(ReadOnlySpan<char> text)
    {
        var colon = text.IndexOf(':');
        if (colon < 0 || colon > 12)
        {
            return false;
        }

        var role = text[..colon].TrimEnd();
        return role.Equals("User", StringComparison.OrdinalIgnoreCase) || role.Equals("Agent", StringComparison.OrdinalIgnoreCase);
    }

    private static bool StartsSection(ReadOnlySpan<char> text) =>
        text.StartsWith("BEGIN", StringComparison.OrdinalIgnoreCase) || text.StartsWith("END", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the model's answer; null when it is neither <c>safe</c> nor <c>unsafe</c> (a malformed answer).</summary>
    public static ModerationResult? Parse(string? output)
    {
        if (output is null)
        {
            return null;
        }

        var trimmed = output.Trim();
        var newline = trimmed.IndexOf('\n', StringComparison.Ordinal);
        var verdict = (newline < 0 ? trimmed : trimmed[..newline]).Trim();
        if (verdict.Equals("safe", StringComparison.OrdinalIgnoreCase))
        {
            return Build([], unsafeVerdict: false);
        }

        if (!verdict.Equals("unsafe", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var codes = new List<string>();
        if (newline >= 0)
        {
            foreach (var part in trimmed[(newline + 1)..].Split([',', '\n', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var code = part.ToUpperInvariant();
                if (OpenAiCategoriesOf(code) is not null && !codes.Contains(code))
                {
                    codes.Add(code);
                }
            }
        }

        return Build(codes, unsafeVerdict: true);
    }

    /// <summary>
    /// Where each Llama Guard 3 category lands among OpenAI's. Codes with no counterpart among the eleven text categories
    /// (crimes, advice, IP, elections, code abuse) flag OpenAI's newer <c>illicit</c>, added to the list only then.
    /// </summary>
    public static string[]? OpenAiCategoriesOf(string code) => code switch
    {
        "S1" => ["violence"],
        "S2" => ["illicit"],
        "S3" => ["sexual"],
        "S4" => ["sexual/minors"],
        "S5" => ["harassment"],
        "S6" => ["illicit"],
        "S7" => ["harassment"],
        "S8" => ["illicit"],
        "S9" => ["violence"],
        "S10" => ["hate"],
        "S11" => ["self-harm", "self-harm/intent"],
        "S12" => ["sexual"],
        "S13" => ["illicit"],
        "S14" => ["illicit"],
        _ => null,
    };

    private static ModerationResult Build(List<string> codes, bool unsafeVerdict)
    {
        var flaggedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var code in codes)
        {
            foreach (var name in OpenAiCategoriesOf(code)!)
            {
                flaggedNames.Add(name);
            }
        }

        var names = new List<string>(OpenAiCategories);
        if (flaggedNames.Contains("illicit"))
        {
            names.Add("illicit");
        }

        var categories = new KeyValuePair<string, bool>[names.Count];
        var scores = new KeyValuePair<string, double>[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var flagged = flaggedNames.Contains(names[i]);
            categories[i] = new(names[i], flagged);
            // Llama Guard gives no probabilities: a flagged category scores 1.0, as the tutorial's wrapper reports.
            scores[i] = new(names[i], flagged ? 1.0 : 0.0);
        }

        // "unsafe" with no readable code is still unsafe: flagged, with no category to name.
        return new ModerationResult { Flagged = unsafeVerdict, Categories = categories, CategoryScores = scores, LlamaGuardCodes = codes };
    }
}
