namespace Proxy.IntegrationTests.Infrastructure;

public static class Eventually
{
    /// <summary>Polls until the condition holds, at most <paramref name="timeout"/>; for effects of background work such as a file watcher.</summary>
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return await condition();
    }
}
