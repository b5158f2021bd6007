using System.Text.Json;
using Proxy.IntegrationTests.Infrastructure;

namespace Proxy.IntegrationTests;

public sealed class ReloadTests
{
    private static string Config(params string[] groups) =>
        "model_list:\n" + string.Concat(groups.Select(g => $"""
              - model_name: {g}
                litellm_params:
                  model: openai/{g}
                  mock_response: answer from {g}

            """)) + $"general_settings:\n  master_key: {Configs.MasterKey}\n";

    private static async Task<string[]> ModelsAsync(GatewayInstance gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Add("Authorization", "Bearer " + Configs.MasterKey);
        using var response = await gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray();
    }

    // The reload errors (file paths, lines) are shown to the master key only.
    private static async Task<JsonElement> LastReloadAsync(GatewayInstance gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/readiness");
        request.Headers.Add("Authorization", "Bearer " + Configs.MasterKey);
        using var response = await gateway.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("config").Clone();
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Valid_edit_is_applied_without_restart()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config("a"));

        await File.WriteAllTextAsync(gateway.ConfigPath, Config("a", "b"));

        Assert.True(await Eventually.TrueAsync(async () => (await ModelsAsync(gateway)).Contains("b"), TimeSpan.FromSeconds(20)));
        using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            """{"model":"b","messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey));
        Assert.Contains("answer from b", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, (await LastReloadAsync(gateway)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Edit_by_rename_is_applied()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config("a"));
        var temp = Path.Combine(gateway.Directory, ".config.yaml.swp");

        await File.WriteAllTextAsync(temp, Config("c"));
        File.Move(temp, gateway.ConfigPath, overwrite: true);

        Assert.True(await Eventually.TrueAsync(async () => (await ModelsAsync(gateway)).SequenceEqual(["c"]), TimeSpan.FromSeconds(20)));
    }

    [Trait("Category", TestCategories.AotSmoke)]
    [Fact]
    public async Task Invalid_edit_keeps_the_old_config_and_shows_in_readiness()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config("a"));

        await File.WriteAllTextAsync(gateway.ConfigPath, "model_list:\n  - model_name: x\n    litellm_params:\n      model: openai/x\n      rpm: ten\n");

        Assert.True(await Eventually.TrueAsync(async () =>
            (await LastReloadAsync(gateway)).GetProperty("last_reload").GetProperty("status").GetString() == "failed", TimeSpan.FromSeconds(20)));
        var config = await LastReloadAsync(gateway);
        Assert.Contains("rpm", config.GetProperty("last_reload").GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(1, config.GetProperty("version").GetInt32());
        Assert.Equal(["a"], await ModelsAsync(gateway));
        using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
            """{"model":"a","messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey));
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task A_file_left_empty_mid_save_is_not_served()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config("a"));

        await File.WriteAllTextAsync(gateway.ConfigPath, "");
        // A negative check needs a bounded wait: several debounce periods.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(["a"], await ModelsAsync(gateway));
        Assert.Equal(1, (await LastReloadAsync(gateway)).GetProperty("version").GetInt32());

        await File.WriteAllTextAsync(gateway.ConfigPath, Config("a", "b"));
        Assert.True(await Eventually.TrueAsync(async () => (await ModelsAsync(gateway)).Contains("b"), TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Reload_under_load_fails_no_request()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config("a", "b"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var stop = false;
        var failures = 0;
        var total = 0;
        async Task ClientAsync()
        {
            // Bounded: at most 2,000 requests per client, and never past the reload phase.
            for (var i = 0; i < 2000 && !Volatile.Read(ref stop); i++)
            {
                using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
                    """{"model":"a","messages":[{"role":"user","content":"hi"}],"stream":true}""", Configs.MasterKey), cts.Token);
                var text = await response.Content.ReadAsStringAsync(cts.Token);
                Interlocked.Increment(ref total);
                if ((int)response.StatusCode != 200 || !text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(ClientAsync)).ToArray();
        for (var version = 0; version < 6; version++)
        {
            await File.WriteAllTextAsync(gateway.ConfigPath, version % 2 == 0 ? Config("a", "c" + version) : Config("a", "b"));
            var expected = version + 2;
            Assert.True(await Eventually.TrueAsync(async () => (await LastReloadAsync(gateway)).GetProperty("version").GetInt32() == expected,
                TimeSpan.FromSeconds(20)));
        }

        Volatile.Write(ref stop, true);
        await Task.WhenAll(clients);
        Assert.True(total > 50, $"only {total} requests ran during the reloads");
        Assert.Equal(0, failures);
    }

    [Fact]
    public async Task Each_edit_applies_within_two_seconds_while_other_files_beside_the_config_keep_changing()
    {
        // The embedded key store (gateway.db and its journal) lives beside the config and is written on every spend
        // batch; another writer adds a file of its own every 20 ms. Neither may hold a reload back.
        var config = Config("a", "b") + "  proxy_batch_write_at: 0.05\n";
        await using var gateway = await GatewayInstance.StartAsync(config);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stop = false;
        var failures = 0;
        var total = 0;
        async Task ClientAsync()
        {
            for (var i = 0; i < 5000 && !Volatile.Read(ref stop); i++)
            {
                using var response = await gateway.Http.SendAsync(gateway.Post("/v1/chat/completions",
                    """{"model":"a","messages":[{"role":"user","content":"hi"}]}""", Configs.MasterKey), cts.Token);
                await response.Content.ReadAsStringAsync(cts.Token);
                Interlocked.Increment(ref total);
                if ((int)response.StatusCode != 200)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        async Task NeighbourAsync()
        {
            var log = Path.Combine(gateway.Directory, "neighbour.log");
            for (var i = 0; i < 5000 && !Volatile.Read(ref stop); i++)
            {
                await File.AppendAllTextAsync(log, "line\n", cts.Token);
                await Task.Delay(20, cts.Token);
            }
        }

        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(ClientAsync)).Append(Task.Run(NeighbourAsync)).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(File.Exists(Path.Combine(gateway.Directory, "gateway.db")), "the embedded store should write beside the config");

        var temp = Path.Combine(gateway.Directory, ".config.yaml.tmp");
        var edits = new (string Name, Action Apply, int Version, string Status)[]
        {
            ("add in place", () => File.WriteAllText(gateway.ConfigPath, Config("a", "b", "c") + "  proxy_batch_write_at: 0.05\n"), 2, "ok"),
            ("remove by rename", () =>
            {
                File.WriteAllText(temp, config);
                File.Move(temp, gateway.ConfigPath, overwrite: true);
            }, 3, "ok"),
            ("invalid", () => File.WriteAllText(gateway.ConfigPath, "model_list: [{model_name: x}]\n"), 3, "failed"),
            ("add again", () => File.WriteAllText(gateway.ConfigPath, Config("a", "b", "d") + "  proxy_batch_write_at: 0.05\n"), 4, "ok"),
            ("remove", () => File.WriteAllText(gateway.ConfigPath, config), 5, "ok"),
        };
        foreach (var (name, apply, version, status) in edits)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            apply();
            var applied = await Eventually.TrueAsync(async () =>
            {
                var reload = (await LastReloadAsync(gateway)).GetProperty("last_reload");
                return reload.GetProperty("status").GetString() == status && reload.GetProperty("config_version").GetInt32() == version;
            }, TimeSpan.FromSeconds(2));
            Assert.True(applied, $"edit '{name}' not applied within 2 s (waited {started.ElapsedMilliseconds} ms)");
        }

        Volatile.Write(ref stop, true);
        await Task.WhenAll(clients);
        Assert.True(total > 100, $"only {total} requests ran during the edits");
        Assert.Equal(0, failures);
    }
}
