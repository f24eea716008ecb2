namespace Kiln.ControlPlane.Tests;

public static class Wait
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails the test naming <paramref name="what"/> on timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {timeout.TotalSeconds}s waiting for {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>Polls an async <paramref name="condition"/> until it holds.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        ForAsync(async () => await condition() ? "" : null, timeout, what);

    /// <summary>Polls an async probe until it returns a non-null value.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {timeout.TotalSeconds}s waiting for {what}");
            await Task.Delay(100);
        }
    }
}
