using Broker.Cli;

return await BrokerCommand.RunAsync(args);
