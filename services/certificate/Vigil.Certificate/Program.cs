using Vigil.Certificate.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddCertificateService();

var app = builder.Build();
app.MapCertificateService();
app.Run();
