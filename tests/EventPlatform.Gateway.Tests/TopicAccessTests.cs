using System.Security.Claims;
using EventPlatform.Gateway.Auth;

namespace EventPlatform.Gateway.Tests;

public class TopicAccessTests
{
    private static ClaimsPrincipal User(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "test"));

    [Theory]
    [InlineData("events:write", TopicAction.Write, "events.iot.sensors", true)]
    [InlineData("events:write", TopicAction.Read, "events.iot.sensors", false)]
    [InlineData("events:write:iot.sensors", TopicAction.Write, "events.iot.sensors", true)]
    [InlineData("events:write:events.iot.sensors", TopicAction.Write, "events.iot.sensors", true)]
    [InlineData("events:write:iot.sensors", TopicAction.Write, "events.clickstream", false)]
    [InlineData("events:read:* events:write:clickstream", TopicAction.Read, "events.transactions", true)]
    [InlineData("events:writer", TopicAction.Write, "events.iot.sensors", false)]
    [InlineData("openid profile", TopicAction.Write, "events.iot.sensors", false)]
    public void Scopes_grant_what_they_name(string scope, TopicAction action, string topic, bool allowed) =>
        Assert.Equal(allowed, TopicAccess.Allows(User(("scope", scope)), action, topic, requireScopes: false));

    [Fact]
    public void A_topics_claim_grants_reading_and_writing_those_topics()
    {
        var user = User(("topics", "clickstream"), ("topics", "events.transactions"));
        Assert.True(TopicAccess.Allows(user, TopicAction.Write, "events.clickstream", false));
        Assert.True(TopicAccess.Allows(user, TopicAction.Read, "events.transactions", false));
        Assert.False(TopicAccess.Allows(user, TopicAction.Write, "events.iot.sensors", false));
    }

    [Fact]
    public void Tokens_without_scopes_may_use_every_topic_unless_scopes_are_required()
    {
        var user = User(("sub", "someone"));
        Assert.True(TopicAccess.Allows(user, TopicAction.Write, "events.iot.sensors", requireScopes: false));
        Assert.False(TopicAccess.Allows(user, TopicAction.Write, "events.iot.sensors", requireScopes: true));
    }
}
