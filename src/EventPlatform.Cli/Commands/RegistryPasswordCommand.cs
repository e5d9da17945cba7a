using System.CommandLine;
using EventPlatform.SchemaRegistry.Security;

namespace EventPlatform.Cli.Commands;

/// <summary>
/// <c>registry-password</c>: hashes a registry user's password for <c>Registry:Auth:Users:&lt;name&gt;:PasswordHash</c>
/// or a users file, so that configuration need not hold it in clear. Reads the password from
/// standard input (one line), never from the command line, which others can see.
/// </summary>
internal static class RegistryPasswordCommand
{
    public static Command Create()
    {
        var command = new Command("registry-password", "Read a password on standard input and print its hash for Registry:Auth:Users:<name>:PasswordHash or a users file (pbkdf2-sha256).");
        command.SetAction(_ =>
        {
            var password = Console.In.ReadLine();
            if (string.IsNullOrEmpty(password))
            {
                Console.Error.WriteLine("registry-password: give the password on standard input, e.g. printf '%s\\n' \"$PASSWORD\" | eventplatform registry-password");
                return 1;
            }

            Console.WriteLine(PasswordHash.Create(password));
            return 0;
        });
        return command;
    }
}
