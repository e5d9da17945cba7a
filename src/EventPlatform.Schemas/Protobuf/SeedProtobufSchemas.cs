namespace EventPlatform.Schemas.Protobuf;

/// <summary>The platform's own Protobuf schemas, ready to register.</summary>
public static class SeedProtobufSchemas
{
    /// <summary>The full name of <see cref="Event"/>'s message.</summary>
    public const string EventMessageName = "com.platform.events.Event";

    /// <summary>The event envelope the ingestion gateway accepts in Protobuf.</summary>
    public const string Event = """
        syntax = "proto3";
        package com.platform.events;

        import "google/protobuf/struct.proto";
        import "google/protobuf/timestamp.proto";

        message Event {
          string event_id = 1;
          google.protobuf.Timestamp timestamp = 2;
          string event_type = 3;
          optional string user_id = 4;
          optional string device_id = 5;
          google.protobuf.Struct payload = 6;
          google.protobuf.Struct metadata = 7;
        }

        """;
}
