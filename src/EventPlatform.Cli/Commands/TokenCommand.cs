using System.CommandLine;

namespace EventPlatform.Cli.Commands;

/// <summary><c>token</c>: prints a bearer token the gateway accepts, and nothing else (for $(...)).</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var subject = new Option<string>("--subject") { Description = "The token's subject (sub): who the client is.", DefaultValueFactory = _ => "dev-user" };
        var ttl = new Option<TimeSpan>("--ttl") { Description = "How long the token is valid (e.g. 1.00:00:00 for a day).", DefaultValueFactory = _ => TimeSpan.FromDays(1) };
        var scope = new Option<string?>("--scope") { Description = "Limit the token to some topics, e.g. \"events:write:iot.sensors events:read:*\" (default: every topic); schemas:read, schemas:write or schemas:admin for the schema registry." };
        var command = new Command("token", "Mint a development JWT (signed with JWT_SECRET_KEY, else the development secret in ./data).") { subject, ttl, scope };
        command.SetAction(parse =>
        {
            var jwt = PlatformSettings.Jwt(PlatformSettings.Load(), allowDevelopmentSecret: true);
            var claims = parse.GetValue(scope) is { Length: > 0 } s ? new Dictionary<string, object> { [Gateway.Auth.TopicAccess.ScopeClaim] = s } : null;
            Console.WriteLine(Hosting.Auth.JwtTokenIssuer.Create(jwt, parse.GetValue(subject)!, parse.GetValue(ttl), DateTimeOffset.UtcNow, claims));
            return 0;
        });
        return command;
    }
}
