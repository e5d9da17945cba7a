using System.Text.Json.Nodes;
using static EventPlatform.SchemaRegistry.Tests.Registry.Rest;

namespace EventPlatform.SchemaRegistry.Tests.Registry;

/// <summary>Confluent's REST semantics as a curl user sees them: paths, bodies, status and error codes.</summary>
[Collection(RegistryCollection.Name)]
public sealed class RestApiTests(RegistryFixture fixture)
{
    private HttpClient Http => fixture.Registry.Client;

    [Fact]
    public async Task Versions_ids_and_raw_schema_are_served()
    {
        var subject = RegistryFixture.NewSubject();
        var (status, body) = await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1));
        Assert.Equal(200, status);
        var id = body!["id"]!.GetValue<int>();

        (status, body) = await GetAsync(Http, $"subjects/{subject}/versions/1");
        Assert.Equal(200, status);
        Assert.Equal(subject, body!["subject"]!.GetValue<string>());
        Assert.Equal(id, body["id"]!.GetValue<int>());
        Assert.Null(body["schemaType"]); // AVRO is implied, as in Confluent's answers

        (status, body) = await GetAsync(Http, $"subjects/{subject}/versions/latest/schema");
        Assert.Equal(200, status);
        Assert.Equal("Event", body!["name"]!.GetValue<string>());

        (status, body) = await GetAsync(Http, $"schemas/ids/{id}/versions");
        Assert.Equal(200, status);
        Assert.Contains(body!.AsArray(), p => p!["subject"]!.GetValue<string>() == subject && p["version"]!.GetValue<int>() == 1);

        (status, body) = await GetAsync(Http, $"schemas/ids/{id}/subjects");
        Assert.Contains(body!.AsArray(), s => s!.GetValue<string>() == subject);

        (status, body) = await GetAsync(Http, "schemas/types");
        Assert.Contains(body!.AsArray(), t => t!.GetValue<string>() == "AVRO");
    }

    [Fact]
    public async Task Same_schema_in_two_subjects_shares_its_id_and_whitespace_does_not_matter()
    {
        var a = RegistryFixture.NewSubject();
        var b = RegistryFixture.NewSubject();
        var (_, first) = await PostAsync(Http, $"subjects/{a}/versions", AvroBody(TestSchemas.V1));
        var spaced = JsonNode.Parse(TestSchemas.V1)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        var (_, second) = await PostAsync(Http, $"subjects/{b}/versions", AvroBody(spaced));
        Assert.Equal(first!["id"]!.GetValue<int>(), second!["id"]!.GetValue<int>());

        var (_, again) = await PostAsync(Http, $"subjects/{a}/versions", AvroBody(spaced));
        Assert.Equal(1, again!["version"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("GET", "subjects/{missing}/versions", 404, 40401)]
    [InlineData("GET", "subjects/{subject}/versions/7", 404, 40402)]
    [InlineData("GET", "subjects/{subject}/versions/abc", 422, 42202)]
    [InlineData("GET", "subjects/{subject}/versions/0", 422, 42202)]
    [InlineData("GET", "schemas/ids/987654", 404, 40403)]
    [InlineData("GET", "config/{subject}", 404, 40408)]
    [InlineData("GET", "mode/{subject}", 404, 40409)]
    [InlineData("DELETE", "subjects/{subject}/versions/1?permanent=true", 404, 40407)]
    [InlineData("DELETE", "subjects/{subject}?permanent=true", 404, 40405)]
    [InlineData("GET", "no/such/route", 404, 404)]
    public async Task Errors_carry_Confluents_codes(string method, string path, int status, int code)
    {
        var subject = RegistryFixture.NewSubject();
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1));
        var (actual, body) = await SendAsync(Http, new HttpMethod(method), path.Replace("{subject}", subject).Replace("{missing}", RegistryFixture.NewSubject()));
        Assert.Equal(status, actual);
        Assert.Equal(code, ErrorCode(body));
        Assert.False(string.IsNullOrEmpty(body!["message"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("""{"schema":"{not json"}""", 42201)]
    [InlineData("""{"schema":"{\"type\":\"record\",\"name\":\"R\"}"}""", 42201)]
    [InlineData("""{"schema":"\"string\"","schemaType":"XML"}""", 42201)]
    [InlineData("""{"schema":""}""", 42201)]
    [InlineData("""{"schema":"\"string\"","references":[{"name":"x","subject":"nope","version":1}]}""", 42201)]
    [InlineData("""{"schema": 12""", 400)]
    public async Task Invalid_registrations_are_refused_with_422_or_400(string body, int code)
    {
        var (status, answer) = await SendAsync(Http, HttpMethod.Post, $"subjects/{RegistryFixture.NewSubject()}/versions", body);
        Assert.Equal(code == 400 ? 400 : 422, status);
        Assert.Equal(code, ErrorCode(answer));
    }

    [Fact]
    public async Task Soft_delete_hides_hard_delete_removes_and_needs_soft_first()
    {
        var subject = RegistryFixture.NewSubject();
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1));
        // A schema no other test registers: ids are shared by every subject that holds the same schema.
        var unique = TestSchemas.V2.Replace("\"user_id\"", $"\"user_{Guid.NewGuid():N}\"", StringComparison.Ordinal);
        var (_, v2) = await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(unique));
        var id2 = v2!["id"]!.GetValue<int>();

        var (status, body) = await DeleteAsync(Http, $"subjects/{subject}/versions/2");
        Assert.Equal(200, status);
        Assert.Equal(2, body!.GetValue<int>());
        Assert.Equal(404, (await GetAsync(Http, $"subjects/{subject}/versions/2")).Status);
        Assert.Equal(200, (await GetAsync(Http, $"subjects/{subject}/versions/2?deleted=true")).Status);
        Assert.Equal([1], (await GetAsync(Http, $"subjects/{subject}/versions")).Body!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal([1, 2], (await GetAsync(Http, $"subjects/{subject}/versions?deleted=true")).Body!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal(40406, ErrorCode((await DeleteAsync(Http, $"subjects/{subject}/versions/2")).Body));
        Assert.Equal(200, (await GetAsync(Http, $"schemas/ids/{id2}")).Status); // ids stay readable after a soft delete

        (status, _) = await DeleteAsync(Http, $"subjects/{subject}/versions/2?permanent=true");
        Assert.Equal(200, status);
        Assert.Equal(404, (await GetAsync(Http, $"subjects/{subject}/versions/2?deleted=true")).Status);
        Assert.Equal(40403, ErrorCode((await GetAsync(Http, $"schemas/ids/{id2}")).Body));

        (status, body) = await DeleteAsync(Http, $"subjects/{subject}");
        Assert.Equal(200, status);
        Assert.Equal([1], body!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.DoesNotContain((await GetAsync(Http, "subjects")).Body!.AsArray(), s => s!.GetValue<string>() == subject);
        Assert.Contains((await GetAsync(Http, "subjects?deleted=true")).Body!.AsArray(), s => s!.GetValue<string>() == subject);
        Assert.Equal(40404, ErrorCode((await DeleteAsync(Http, $"subjects/{subject}")).Body));

        (status, _) = await DeleteAsync(Http, $"subjects/{subject}?permanent=true");
        Assert.Equal(200, status);
        Assert.Equal(40401, ErrorCode((await GetAsync(Http, $"subjects/{subject}/versions?deleted=true")).Body));
    }

    [Fact]
    public async Task Incompatible_registration_is_a_409_that_names_the_field_and_the_version()
    {
        var subject = RegistryFixture.NewSubject();
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1));
        var (status, body) = await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.NoDefault));
        Assert.Equal(409, status);
        Assert.Equal(40901, ErrorCode(body));
        var message = body!["message"]!.GetValue<string>();
        Assert.Contains("amount", message, StringComparison.Ordinal);
        Assert.Contains("oldSchemaVersion: 1", message, StringComparison.Ordinal);
        Assert.Contains("compatibility: 'BACKWARD'", message, StringComparison.Ordinal);

        (status, body) = await PostAsync(Http, $"compatibility/subjects/{subject}/versions/latest?verbose=true", AvroBody(TestSchemas.NoDefault));
        Assert.Equal(200, status);
        Assert.False(body!["is_compatible"]!.GetValue<bool>());
        Assert.Contains(body["messages"]!.AsArray(), m => m!.GetValue<string>().Contains("READER_FIELD_MISSING_DEFAULT_VALUE", StringComparison.Ordinal));

        (_, body) = await PostAsync(Http, $"compatibility/subjects/{subject}/versions", AvroBody(TestSchemas.V2));
        Assert.True(body!["is_compatible"]!.GetValue<bool>());
        Assert.Null(body["messages"]);
    }

    [Fact]
    public async Task Transitive_levels_check_every_version()
    {
        var subject = RegistryFixture.NewSubject();
        const string a = """{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}""";
        const string ab = """{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"string","default":"x"}]}""";
        // Reads v2 (b has a default) but not v1? Both lack c; c has no default: fails BACKWARD against both.
        // d: drops a default -> reads v2 data, cannot read v1 data (b missing in v1 and no default).
        const string bOnly = """{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"string"}]}""";
        Assert.Equal(200, (await PutAsync(Http, $"config/{subject}", new { compatibility = "BACKWARD" })).Status);
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(a));
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(ab));
        Assert.Equal(200, (await PostAsync(Http, $"compatibility/subjects/{subject}/versions", AvroBody(bOnly))).Status);
        Assert.True((await PostAsync(Http, $"compatibility/subjects/{subject}/versions", AvroBody(bOnly))).Body!["is_compatible"]!.GetValue<bool>());

        Assert.Equal(200, (await PutAsync(Http, $"config/{subject}", new { compatibility = "BACKWARD_TRANSITIVE" })).Status);
        var (_, body) = await PostAsync(Http, $"compatibility/subjects/{subject}/versions?verbose=true", AvroBody(bOnly));
        Assert.False(body!["is_compatible"]!.GetValue<bool>());
        Assert.Contains(body["messages"]!.AsArray(), m => m!.GetValue<string>().Contains("oldSchemaVersion: 1", StringComparison.Ordinal));
        var (status, _) = await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(bOnly));
        Assert.Equal(409, status);
    }

    [Fact]
    public async Task Config_per_subject_falls_back_to_global_only_when_asked()
    {
        var subject = RegistryFixture.NewSubject();
        Assert.Equal("BACKWARD", (await GetAsync(Http, "config")).Body!["compatibilityLevel"]!.GetValue<string>());
        Assert.Equal("BACKWARD", (await GetAsync(Http, $"config/{subject}?defaultToGlobal=true")).Body!["compatibilityLevel"]!.GetValue<string>());

        var (status, body) = await PutAsync(Http, $"config/{subject}", new { compatibility = "full_transitive" });
        Assert.Equal(200, status);
        Assert.Equal("FULL_TRANSITIVE", body!["compatibility"]!.GetValue<string>());
        Assert.Equal("FULL_TRANSITIVE", (await GetAsync(Http, $"config/{subject}")).Body!["compatibilityLevel"]!.GetValue<string>());

        Assert.Equal(42203, ErrorCode((await PutAsync(Http, $"config/{subject}", new { compatibility = "SIDEWAYS" })).Body));

        (status, body) = await DeleteAsync(Http, $"config/{subject}");
        Assert.Equal(200, status);
        Assert.Equal("FULL_TRANSITIVE", body!["compatibilityLevel"]!.GetValue<string>());
        Assert.Equal(40408, ErrorCode((await GetAsync(Http, $"config/{subject}")).Body));
    }

    [Fact]
    public async Task Readonly_subject_refuses_writes_and_keeps_serving_reads()
    {
        var subject = RegistryFixture.NewSubject();
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1));
        Assert.Equal("READONLY", (await PutAsync(Http, $"mode/{subject}", new { mode = "READONLY" })).Body!["mode"]!.GetValue<string>());

        var (status, body) = await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V2));
        Assert.Equal(422, status);
        Assert.Equal(42205, ErrorCode(body));
        Assert.Equal(42205, ErrorCode((await DeleteAsync(Http, $"subjects/{subject}")).Body));
        Assert.Equal(200, (await GetAsync(Http, $"subjects/{subject}/versions/1")).Status);
        Assert.Equal(42204, ErrorCode((await PutAsync(Http, $"mode/{subject}", new { mode = "SLEEPING" })).Body));

        Assert.Equal("READONLY", (await DeleteAsync(Http, $"mode/{subject}")).Body!["mode"]!.GetValue<string>());
        Assert.Equal(200, (await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V2))).Status);
    }

    [Fact]
    public async Task Import_mode_keeps_the_given_ids_and_versions()
    {
        var subject = RegistryFixture.NewSubject("import");
        Assert.Equal(200, (await PutAsync(Http, $"mode/{subject}", new { mode = "IMPORT" })).Status);
        var (status, body) = await PostAsync(Http, $"subjects/{subject}/versions", new { schema = TestSchemas.V1, id = 5000, version = 3 });
        Assert.Equal(200, status);
        Assert.Equal(5000, body!["id"]!.GetValue<int>());
        Assert.Equal(3, body["version"]!.GetValue<int>());
        Assert.Equal(200, (await GetAsync(Http, "schemas/ids/5000")).Status);

        // The id now holds V1; importing another schema under it is refused.
        (status, body) = await PostAsync(Http, $"subjects/{subject}/versions", new { schema = TestSchemas.NoDefault, id = 5000, version = 4 });
        Assert.Equal(42207, ErrorCode(body));

        // IMPORT into a subject that already has schemas needs force.
        var used = RegistryFixture.NewSubject();
        await PostAsync(Http, $"subjects/{used}/versions", AvroBody(TestSchemas.V1));
        Assert.Equal(42205, ErrorCode((await PutAsync(Http, $"mode/{used}", new { mode = "IMPORT" })).Body));
        Assert.Equal(200, (await PutAsync(Http, $"mode/{used}?force=true", new { mode = "IMPORT" })).Status);
    }

    [Fact]
    public async Task References_resolve_named_types_and_protect_what_they_reference()
    {
        var addressSubject = RegistryFixture.NewSubject("address");
        const string address = """{"type":"record","name":"Address","namespace":"com.platform","fields":[{"name":"city","type":"string"}]}""";
        await PostAsync(Http, $"subjects/{addressSubject}/versions", AvroBody(address));

        var customer = RegistryFixture.NewSubject("customer");
        const string customerSchema = """{"type":"record","name":"Customer","namespace":"com.platform","fields":[{"name":"address","type":"com.platform.Address"}]}""";
        var references = new[] { new { name = "com.platform.Address", subject = addressSubject, version = 1 } };
        var (status, body) = await PostAsync(Http, $"subjects/{customer}/versions", AvroBody(customerSchema, references));
        Assert.Equal(200, status);
        var id = body!["id"]!.GetValue<int>();

        (_, body) = await GetAsync(Http, $"schemas/ids/{id}");
        Assert.Equal(addressSubject, body!["references"]![0]!["subject"]!.GetValue<string>());
        (_, body) = await GetAsync(Http, $"subjects/{addressSubject}/versions/1/referencedby");
        Assert.Equal([id], body!.AsArray().Select(n => n!.GetValue<int>()));

        (status, body) = await DeleteAsync(Http, $"subjects/{addressSubject}/versions/1");
        Assert.Equal(422, status);
        Assert.Equal(42206, ErrorCode(body));

        // Without the reference the named type is unknown.
        Assert.Equal(42201, ErrorCode((await PostAsync(Http, $"subjects/{RegistryFixture.NewSubject()}/versions", AvroBody(customerSchema))).Body));
    }

    [Fact]
    public async Task Metadata_and_rule_sets_are_kept_and_returned()
    {
        var subject = RegistryFixture.NewSubject();
        var metadata = new { properties = new Dictionary<string, string> { ["owner"] = "data-platform" }, tags = new Dictionary<string, string[]> { ["event_id"] = ["PII"] } };
        var ruleSet = new { domainRules = new[] { new { name = "checkId", kind = "CONDITION", mode = "WRITE", type = "CEL", expr = "message.event_id != ''" } } };
        var (status, body) = await PostAsync(Http, $"subjects/{subject}/versions?normalize=true", new { schema = TestSchemas.V1, metadata, ruleSet });
        Assert.Equal(200, status);

        (_, body) = await GetAsync(Http, $"subjects/{subject}/versions/latest");
        Assert.Equal("data-platform", body!["metadata"]!["properties"]!["owner"]!.GetValue<string>());
        Assert.Equal("checkId", body["ruleSet"]!["domainRules"]![0]!["name"]!.GetValue<string>());

        // Same schema, other metadata: a new version (Confluent treats metadata as part of the schema).
        (_, body) = await PostAsync(Http, $"subjects/{subject}/versions", new { schema = TestSchemas.V1, metadata = new { properties = new Dictionary<string, string> { ["owner"] = "someone-else" } } });
        Assert.Equal(2, body!["version"]!.GetValue<int>());

        // Newer clients find a version by its metadata.
        (status, body) = await GetAsync(Http, $"subjects/{subject}/metadata?key=owner&value=data-platform");
        Assert.Equal(200, status);
        Assert.Equal(1, body!["version"]!.GetValue<int>());
        Assert.Equal(40403, ErrorCode((await GetAsync(Http, $"subjects/{subject}/metadata?key=owner&value=nobody")).Body));
    }

    [Fact]
    public async Task Lookup_finds_the_version_that_holds_a_schema()
    {
        var subject = RegistryFixture.NewSubject();
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1));
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V2));
        var (status, body) = await PostAsync(Http, $"subjects/{subject}", AvroBody(TestSchemas.V1));
        Assert.Equal(200, status);
        Assert.Equal(1, body!["version"]!.GetValue<int>());
        Assert.Equal(40403, ErrorCode((await PostAsync(Http, $"subjects/{subject}", AvroBody(TestSchemas.NoDefault))).Body));
        Assert.Equal(40401, ErrorCode((await PostAsync(Http, $"subjects/{RegistryFixture.NewSubject()}", AvroBody(TestSchemas.V1))).Body));
    }

    [Fact]
    public async Task Prometheus_metrics_count_registrations_and_show_the_state()
    {
        var subject = RegistryFixture.NewSubject();
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.V1));
        await PostAsync(Http, $"subjects/{subject}/versions", AvroBody(TestSchemas.NoDefault));
        var text = await Http.GetStringAsync("metrics");
        Assert.Contains("schema_registry_registrations_total{", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"incompatible\"", text, StringComparison.Ordinal);
        Assert.Contains("schema_registry_subjects ", text, StringComparison.Ordinal);
        Assert.Contains("http_requests_total{", text, StringComparison.Ordinal);
    }
}
