using EventPlatform.Core.Topics;

namespace EventPlatform.Kafka.Topics;

/// <summary>What provisioning did with one topic.</summary>
public enum TopicProvisionOutcome
{
    Created,
    AlreadyExisted,
}

/// <summary>
/// Makes topics exist. Idempotent: a topic that exists is left as it is (its partition count
/// and settings are never changed behind an operator's back).
/// </summary>
/// <remarks>Implementations are thread-safe.</remarks>
public interface ITopicProvisioner
{
    Task<TopicProvisionOutcome> EnsureTopicAsync(TopicSpec topic, CancellationToken cancellationToken);
}

public static class TopicProvisionerExtensions
{
    /// <summary>Applies a whole plan, returning what happened to each topic.</summary>
    public static async Task<IReadOnlyList<(TopicSpec Topic, TopicProvisionOutcome Outcome)>> ApplyAsync(
        this ITopicProvisioner provisioner, TopicPlan plan, CancellationToken cancellationToken)
    {
        var results = new List<(TopicSpec, TopicProvisionOutcome)>(plan.Topics.Count);
        foreach (var topic in plan.Topics)
        {
            results.Add((topic, await provisioner.EnsureTopicAsync(topic, cancellationToken).ConfigureAwait(false)));
        }

        return results;
    }
}
