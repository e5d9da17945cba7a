using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace EventPlatform.Schemas.JsonSchemas;

/// <summary>
/// The work one instance's validation may do. A valid schema can still make a single instance
/// cost exponential time (anyOf in anyOf, 40 levels, every branch failing) or run slow regular
/// expressions on every string; the budget turns that into a failed validation instead of a stalled
/// thread. Lives on the caller's stack (passed by ref) so the valid-instance path allocates nothing.
/// </summary>
internal struct ValidationBudget
{
    /// <summary>Schema applications (one schema checked against one value) per instance.</summary>
    public const int MaxSteps = 1_000_000;

    /// <summary>Schema applications the pass that collects error messages may make: it builds strings for each.</summary>
    public const int MaxReportSteps = 100_000;

    /// <summary>Nested schema applications (into the instance and through applicators) on one path.</summary>
    public const int MaxDepth = 256;

    /// <summary>Time spent in regular expressions (<c>pattern</c>, <c>patternProperties</c>) per instance.</summary>
    public static readonly TimeSpan MaxRegexTime = TimeSpan.FromMilliseconds(250);

    // Results are memoized only after this many steps: a typical event never pays for the table.
    private const int MemoizeAfter = 2_000;

    private static readonly long MaxRegexTicks = (long)(MaxRegexTime.TotalSeconds * Stopwatch.Frequency);

    private readonly int _limit;
    private int _stepsLeft;
    private int _depth;
    private long _regexTicks;

    public ValidationBudget(int steps)
    {
        _limit = steps;
        _stepsLeft = steps;
    }

    /// <summary>
    /// Same-value results (schema node → valid) for the value at each instance depth, once the
    /// walk has proven costly. Only the first (fast, valid/invalid) pass uses it.
    /// </summary>
    public List<Dictionary<SchemaNode, bool>>? Memo { get; private set; }

    /// <summary>How deep in the instance the walk is (0 = the root value).</summary>
    public int InstanceDepth { get; private set; }

    /// <summary>True inside the report of why one branch of anyOf/oneOf failed: nested branches are not summarized again.</summary>
    public bool InSummary { get; set; }

    /// <summary>One schema applied to one value, one level deeper; pair with <see cref="Leave"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter()
    {
        if (--_stepsLeft < 0)
        {
            throw new ValidationBudgetExceededException($"validation needs more than {_limit} schema checks");
        }

        if (++_depth > MaxDepth)
        {
            throw new ValidationBudgetExceededException($"schemas apply more than {MaxDepth} levels deep");
        }

        // A cheap check every few levels: the stack is the backstop below MaxDepth on small stacks.
        if ((_depth & 15) == 0 && !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new ValidationBudgetExceededException($"schemas apply too deeply for this server's stack ({_depth} levels)");
        }

        // ">=", not "==": Charge may jump past the threshold by many steps at once.
        if (Memo is null && _limit - _stepsLeft >= MemoizeAfter)
        {
            Memo = [];
        }
    }

    public void Leave() => _depth--;

    /// <summary>Into a child value (a property or an item): same-value results above do not apply there.</summary>
    public void EnterChild()
    {
        InstanceDepth++;
        if (Memo is { } memo)
        {
            while (memo.Count <= InstanceDepth)
            {
                memo.Add(new Dictionary<SchemaNode, bool>(ReferenceEqualityComparer.Instance));
            }

            memo[InstanceDepth].Clear();
        }
    }

    public void LeaveChild() => InstanceDepth--;

    public readonly bool TryRecall(SchemaNode node, out bool valid)
    {
        if (Memo is { } memo && InstanceDepth < memo.Count)
        {
            return memo[InstanceDepth].TryGetValue(node, out valid);
        }

        valid = false;
        return false;
    }

    public readonly void Remember(SchemaNode node, bool valid)
    {
        if (Memo is { } memo)
        {
            while (memo.Count <= InstanceDepth)
            {
                memo.Add(new Dictionary<SchemaNode, bool>(ReferenceEqualityComparer.Instance));
            }

            memo[InstanceDepth][node] = valid;
        }
    }

    /// <summary>Charges work that is not a schema application (uniqueItems comparisons, enum scans).</summary>
    public void Charge(int steps)
    {
        _stepsLeft -= steps;
        if (_stepsLeft < 0)
        {
            throw new ValidationBudgetExceededException($"validation needs more than {_limit} schema checks");
        }
    }

    /// <summary>Charges the time a regular expression took.</summary>
    public void ChargeRegex(long startTimestamp)
    {
        _regexTicks += Stopwatch.GetTimestamp() - startTimestamp;
        if (_regexTicks > MaxRegexTicks)
        {
            throw new ValidationBudgetExceededException($"regular expressions ran longer than {MaxRegexTime.TotalMilliseconds} ms");
        }
    }
}

/// <summary>Validation of one instance gave up: it needed more work than <see cref="ValidationBudget"/> allows.</summary>
internal sealed class ValidationBudgetExceededException(string message) : Exception(message);
