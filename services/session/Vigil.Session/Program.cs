using Vigil.Session.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddSessionService();

var app = builder.Build();
app.MapSessionService();
app.Run();
