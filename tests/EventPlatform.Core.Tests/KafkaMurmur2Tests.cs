using System.Text;
using EventPlatform.Core.Routing;

namespace EventPlatform.Core.Tests;

public class KafkaMurmur2Tests
{
    // The vectors of Apache Kafka's own UtilsTest.testMurmur2.
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Hash_matches_the_Java_client(string key, int expected) =>
        Assert.Equal(expected, KafkaMurmur2.Hash(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void Partition_is_the_positive_hash_modulo_the_count() =>
        Assert.Equal((-973932308 & 0x7fffffff) % 12, KafkaMurmur2.Partition("21"u8, 12));
}
