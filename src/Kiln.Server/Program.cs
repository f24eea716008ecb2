using Kiln.Server;
using Kiln.Server.Cli;

return await KilnCommand.Create(ModelLoader.Load).Parse(args).InvokeAsync();
