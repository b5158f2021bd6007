global using Proxy.Abstractions;
