using System.Net;
using System.Security.Cryptography;

namespace Kiln.ControlPlane.Tests;

public class ModelTests
{
    [SharedFact]
    public async Task Import_validates_the_file_and_records_its_facts()
    {
        using var server = await KilnServer.StartAsync();
        using var api = new Api(server.BaseUri, server.AdminKey);
        var bytes = TestModels.Stories260K();

        var ready = await Steps.ImportAsync(api, "default", "stories", bytes);
        Assert.True(ready.Status == HttpStatusCode.OK, ready.ToString());
        Assert.Equal("READY", ready.State());
        Assert.Equal("accounts/default/models/stories", ready.Str("name"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), ready.Str("sha256"));
        Assert.Equal(bytes.Length, ready.Body.GetProperty("sizeBytes").GetInt64());
        Assert.Equal("llama", ready.Str("architecture"));
        Assert.True(File.Exists(Path.Combine(server.DataDir, "models", "default", "stories.gguf")));

        var garbage = await Steps.ImportAsync(api, "default", "garbage", [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.Status);
        Assert.Equal("INVALID_ARGUMENT", garbage.Code);
        Assert.Contains("GGUF", garbage.Message);
        Assert.Equal("UPLOADING", (await api.GetAsync("/v1/accounts/default/models/garbage")).State());

        var bert = await Steps.ImportAsync(api, "default", "bert", TestModels.Hollow("bert"));
        Assert.Equal(HttpStatusCode.BadRequest, bert.Status);
        Assert.Contains("\"bert\"", bert.Message);

        var duplicate = await api.PostAsync("/v1/accounts/default/models?modelId=stories");
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Status);
        Assert.Equal("ALREADY_EXISTS", duplicate.Code);

        var badId = await api.PostAsync("/v1/accounts/default/models?modelId=Bad_Id");
        Assert.Equal(HttpStatusCode.BadRequest, badId.Status);
        Assert.Contains("Bad_Id", badId.Message);

        var list = await api.GetAsync("/v1/accounts/default/models?pageSize=2");
        Assert.Equal(3, list.Int("totalSize"));
        Assert.Equal(2, list.Body.GetProperty("models").GetArrayLength());
        var rest = await api.GetAsync($"/v1/accounts/default/models?pageSize=2&pageToken={Uri.EscapeDataString(list.Str("nextPageToken"))}");
        Assert.Equal(1, rest.Body.GetProperty("models").GetArrayLength());
        Assert.Equal("", rest.Str("nextPageToken"));

        Assert.Equal(HttpStatusCode.OK, (await api.DeleteAsync("/v1/accounts/default/models/garbage")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/v1/accounts/default/models/garbage")).Status);
    }
}
