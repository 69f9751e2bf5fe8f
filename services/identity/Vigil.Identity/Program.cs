using Vigil.Identity.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddIdentityService();

var app = builder.Build();
app.MapIdentityService();
app.Run();
