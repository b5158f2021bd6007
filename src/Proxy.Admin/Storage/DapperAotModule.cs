using Dapper;

// Every Dapper call in this assembly goes through code that Dapper.AOT generates at build time (interceptors), not
// through Dapper's runtime reflection emit: the gateway publishes as Native AOT, where emitting IL is impossible.
[module: DapperAot]
