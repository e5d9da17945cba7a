using System.Globalization;
using System.Text;
using Google.Protobuf.Reflection;
using FieldType = Google.Protobuf.Reflection.FieldDescriptorProto.Type;
using ProtoFieldOptions = Google.Protobuf.Reflection.FieldOptions;
using ProtoFileOptions = Google.Protobuf.Reflection.FileOptions;

namespace EventPlatform.Schemas.Protobuf;

/// <summary>The standard options as <c>name = value</c> text, in descriptor field order.</summary>
internal sealed partial class ProtoTextWriter
{
    private static IEnumerable<string> FileOptions(ProtoFileOptions? o)
    {
        if (o is null)
        {
            yield break;
        }

        if (o.ShouldSerializeJavaPackage()) yield return $"java_package = {Quote(o.JavaPackage)}";
        if (o.ShouldSerializeJavaOuterClassname()) yield return $"java_outer_classname = {Quote(o.JavaOuterClassname)}";
        if (o.ShouldSerializeJavaMultipleFiles()) yield return $"java_multiple_files = {Bool(o.JavaMultipleFiles)}";
        if (o.ShouldSerializeJavaStringCheckUtf8()) yield return $"java_string_check_utf8 = {Bool(o.JavaStringCheckUtf8)}";
        if (o.ShouldSerializeOptimizeFor()) yield return $"optimize_for = {OptimizeName(o.OptimizeFor)}";
        if (o.ShouldSerializeGoPackage()) yield return $"go_package = {Quote(o.GoPackage)}";
        if (o.ShouldSerializeCcGenericServices()) yield return $"cc_generic_services = {Bool(o.CcGenericServices)}";
        if (o.ShouldSerializeJavaGenericServices()) yield return $"java_generic_services = {Bool(o.JavaGenericServices)}";
        if (o.ShouldSerializePyGenericServices()) yield return $"py_generic_services = {Bool(o.PyGenericServices)}";
        if (o.ShouldSerializeDeprecated()) yield return $"deprecated = {Bool(o.Deprecated)}";
        if (o.ShouldSerializeCcEnableArenas()) yield return $"cc_enable_arenas = {Bool(o.CcEnableArenas)}";
        if (o.ShouldSerializeObjcClassPrefix()) yield return $"objc_class_prefix = {Quote(o.ObjcClassPrefix)}";
        if (o.ShouldSerializeCsharpNamespace()) yield return $"csharp_namespace = {Quote(o.CsharpNamespace)}";
        if (o.ShouldSerializeSwiftPrefix()) yield return $"swift_prefix = {Quote(o.SwiftPrefix)}";
        if (o.ShouldSerializePhpClassPrefix()) yield return $"php_class_prefix = {Quote(o.PhpClassPrefix)}";
        if (o.ShouldSerializePhpNamespace()) yield return $"php_namespace = {Quote(o.PhpNamespace)}";
        if (o.ShouldSerializePhpMetadataNamespace()) yield return $"php_metadata_namespace = {Quote(o.PhpMetadataNamespace)}";
        if (o.ShouldSerializeRubyPackage()) yield return $"ruby_package = {Quote(o.RubyPackage)}";
    }

    private static string OptimizeName(ProtoFileOptions.OptimizeMode mode) => mode switch
    {
        ProtoFileOptions.OptimizeMode.CodeSize => "CODE_SIZE",
        ProtoFileOptions.OptimizeMode.LiteRuntime => "LITE_RUNTIME",
        _ => "SPEED",
    };

    private static IEnumerable<string> MessageOptions(MessageOptions? o)
    {
        if (o is null)
        {
            yield break;
        }

        if (o.ShouldSerializeMessageSetWireFormat()) yield return $"message_set_wire_format = {Bool(o.MessageSetWireFormat)}";
        if (o.ShouldSerializeNoStandardDescriptorAccessor()) yield return $"no_standard_descriptor_accessor = {Bool(o.NoStandardDescriptorAccessor)}";
        if (o.ShouldSerializeDeprecated()) yield return $"deprecated = {Bool(o.Deprecated)}";
    }

    private static IEnumerable<string> EnumOptions(EnumOptions? o)
    {
        if (o is null)
        {
            yield break;
        }

        if (o.ShouldSerializeAllowAlias()) yield return $"allow_alias = {Bool(o.AllowAlias)}";
        if (o.ShouldSerializeDeprecated()) yield return $"deprecated = {Bool(o.Deprecated)}";
    }

    private IEnumerable<string> FieldOptions(FieldDescriptorProto field)
    {
        if (field.ShouldSerializeDefaultValue())
        {
            yield return $"default = {DefaultText(field)}";
        }

        if (!string.IsNullOrEmpty(field.JsonName) && field.JsonName != DefaultJsonName(field.Name))
        {
            yield return $"json_name = {Quote(field.JsonName)}";
        }

        var o = field.Options;
        if (o is null)
        {
            yield break;
        }

        if (o.ShouldSerializeCtype()) yield return $"ctype = {CTypeName(o.Ctype)}";
        if (o.ShouldSerializePacked()) yield return $"packed = {Bool(o.Packed)}";
        if (o.ShouldSerializeJstype()) yield return $"jstype = {JsTypeName(o.Jstype)}";
        if (o.ShouldSerializeLazy()) yield return $"lazy = {Bool(o.Lazy)}";
        if (o.ShouldSerializeDeprecated()) yield return $"deprecated = {Bool(o.Deprecated)}";
    }

    private static string CTypeName(ProtoFieldOptions.CType type) => type switch
    {
        ProtoFieldOptions.CType.Cord => "CORD",
        ProtoFieldOptions.CType.StringPiece => "STRING_PIECE",
        _ => "STRING",
    };

    private static string JsTypeName(ProtoFieldOptions.JSType type) => type switch
    {
        ProtoFieldOptions.JSType.JsString => "JS_STRING",
        ProtoFieldOptions.JSType.JsNumber => "JS_NUMBER",
        _ => "JS_NORMAL",
    };

    private static IEnumerable<string> DeprecatedOption(bool deprecated) =>
        deprecated ? ["deprecated = true"] : [];

    /// <summary>A proto2 default value in .proto syntax (descriptors keep strings unescaped, bytes C-escaped).</summary>
    private static string DefaultText(FieldDescriptorProto field) => field.type switch
    {
        FieldType.TypeString => Quote(field.DefaultValue),
        FieldType.TypeBytes => "\"" + field.DefaultValue + "\"",
        _ => field.DefaultValue,
    };

    /// <summary>protoc's default JSON name: lowerCamelCase of the field name.</summary>
    internal static string DefaultJsonName(string fieldName)
    {
        var json = new StringBuilder(fieldName.Length);
        var upperNext = false;
        foreach (var c in fieldName)
        {
            if (c == '_')
            {
                upperNext = true;
            }
            else
            {
                json.Append(upperNext ? char.ToUpperInvariant(c) : c);
                upperNext = false;
            }
        }

        return json.ToString();
    }

    private static string Bool(bool value) => value ? "true" : "false";

    /// <summary>A string literal with the escapes .proto text needs.</summary>
    internal static string Quote(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\r' => quoted.Append("\\r"),
                '\t' => quoted.Append("\\t"),
                < ' ' => quoted.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => quoted.Append(c),
            };
        }

        return quoted.Append('"').ToString();
    }
}
