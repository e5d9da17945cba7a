using System.CommandLine;

namespace EventPlatform.Cli.Commands;

/// <summary><c>token</c>: prints a bearer token the gateway accepts, and nothing else (for $(...)).</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var subject = new Option<string>("--subject") { Description = "The token's subject (sub): who the client is.", DefaultValueFactory = _ => "dev-user" };
        var ttl = new Option<TimeSpan>("--ttl") { Description = "How long the token is valid (e.g. 1.00:00:00 for a day).", DefaultValueFactory = _ => TimeSpan.FromDays(1) };
        var command = new Command("token", "Mint a development JWT (signed with JWT_SECRET_KEY, else the development secret in ./data).") { subject, ttl };
        command.SetAction(parse =>
        {
            var jwt = PlatformSettings.Jwt(PlatformSettings.Load(), allowDevelopmentSecret: true);
            Console.WriteLine(PlatformSettings.DevelopmentToken(jwt, parse.GetValue(subject)!, parse.GetValue(ttl)));
            return 0;
        });
        return command;
    }
}
