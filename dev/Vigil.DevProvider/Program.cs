using Vigil.DevProvider.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddDevProvider();

var app = builder.Build();
app.MapDevProvider();
app.Run();
