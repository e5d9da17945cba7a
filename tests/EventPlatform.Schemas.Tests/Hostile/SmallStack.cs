using System.Runtime.ExceptionServices;

namespace EventPlatform.Schemas.Tests.Hostile;

/// <summary>
/// Runs code on a thread with a small stack (256 KiB), so that recursion that is not bounded fails
/// here instead of passing on a large default stack by luck. A stack overflow still ends the test
/// process: that is the failure this catches.
/// </summary>
internal static class SmallStack
{
    public const int StackBytes = 256 * 1024;

    // Generous: the inputs are hostile, the code must only finish (no performance is asserted).
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static T Run<T>(Func<T> work) => Run(work, StackBytes);

    /// <summary>Runs on a stack of <paramref name="stackBytes"/>: for code bounded by a depth that needs more than the default here.</summary>
    public static T Run<T>(Func<T> work, int stackBytes)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, stackBytes);
        thread.Start();
        Assert.True(thread.Join(Limit), $"did not finish within {Limit}");
        failure?.Throw();
        return result;
    }

    public static void Run(Action work) => Run(() =>
    {
        work();
        return 0;
    });

    /// <summary>Runs the work and returns the exception it must throw.</summary>
    public static TException Throws<TException>(Action work, int stackBytes = StackBytes)
        where TException : Exception =>
        Run(() =>
        {
            try
            {
                work();
            }
            catch (TException e)
            {
                return e;
            }

            throw new Xunit.Sdk.XunitException($"expected {typeof(TException).Name}, nothing was thrown");
        }, stackBytes);
}
