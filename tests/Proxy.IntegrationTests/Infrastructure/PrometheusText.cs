using System.Globalization;

namespace Proxy.IntegrationTests.Infrastructure;

/// <summary>A scrape of /metrics parsed into samples, for asserting exact values and label sets.</summary>
public sealed class PrometheusText
{
    private PrometheusText(string text, IReadOnlyList<Sample> samples)
    {
        Text = text;
        Samples = samples;
    }

    public string Text { get; }

    public IReadOnlyList<Sample> Samples { get; }

    public static async Task<PrometheusText> ScrapeAsync(HttpClient http, string url = "/metrics")
    {
        using var response = await http.GetAsync(url);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync();
        return Parse(text);
    }

    public static PrometheusText Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var labels = new Dictionary<string, string>();
            string name;
            string rest;
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            if (brace >= 0)
            {
                name = line[..brace];
                var close = line.LastIndexOf('}');
                ParseLabels(line[(brace + 1)..close], labels);
                rest = line[(close + 1)..].Trim();
            }
            else
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                name = line[..space];
                rest = line[(space + 1)..].Trim();
            }

            var value = double.Parse(rest.Split(' ')[0], CultureInfo.InvariantCulture);
            samples.Add(new Sample(name, labels, value));
        }

        return new PrometheusText(text, samples);
    }

    /// <summary>Sum of the samples of <paramref name="name"/> whose labels include every given pair (0 when none).</summary>
    public double Value(string name, params (string Label, string Value)[] match) =>
        Matching(name, match).Sum(sample => sample.Value);

    public IEnumerable<Sample> Matching(string name, params (string Label, string Value)[] match) =>
        Samples.Where(sample => sample.Name == name && match.All(pair => sample.Labels.TryGetValue(pair.Label, out var v) && v == pair.Value));

    private static void ParseLabels(string text, Dictionary<string, string> labels)
    {
        var i = 0;
        while (i < text.Length)
        {
            var eq = text.IndexOf('=', i);
            var name = text[i..eq].Trim().TrimStart(',').Trim();
            var start = eq + 2;
            var value = new System.Text.StringBuilder();
            var j = start;
            for (; j < text.Length && text[j] != '"'; j++)
            {
                if (text[j] == '\\' && j + 1 < text.Length)
                {
                    j++;
                }

                value.Append(text[j]);
            }

            labels[name] = value.ToString();
            i = j + 1;
            if (i < text.Length && text[i] == ',')
            {
                i++;
            }
        }
    }

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
