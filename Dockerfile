# The worker host, the demo that feeds it, and the broker command to look at them: one image, three programs.
#   docker build -t broker .
# The worker host serves a pool with the [PoolTask] methods of the assemblies given with --assembly:
#   docker run broker --broker redis://redis:6379 --pool demo --processes 2 --assembly /app/demo/Demo.dll
# (or --broker amqp://rabbitmq:5672/,redis://redis:6379 for the queues on RabbitMQ, with the credentials in the URL
# as user:password@ before the host; BROKER_URL works too)
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
# ReadyToRun: each worker process is a fresh runtime, and precompiled code spares it most of its compiling at start.
RUN dotnet publish src/WorkerHost -c Release --use-current-runtime --self-contained false -p:PublishReadyToRun=true -o /app/host \
 && dotnet publish samples/Demo -c Release --use-current-runtime --self-contained false -p:PublishReadyToRun=true -o /app/demo \
 && dotnet publish src/Cli -c Release --use-current-runtime --self-contained false -o /app/cli

FROM mcr.microsoft.com/dotnet/runtime:10.0
COPY --from=build /app /app
# In a running container: docker-compose exec worker broker queues (or workers, dead-letters show QUEUE...), on its BROKER_URL.
RUN printf '#!/bin/sh\nexec dotnet /app/cli/Broker.Cli.dll "$@"\n' > /usr/local/bin/broker && chmod +x /usr/local/bin/broker
# Worker processes are children of the host; it reaps them and passes SIGTERM on, so it runs as PID 1 directly.
ENTRYPOINT ["dotnet", "/app/host/Broker.WorkerHost.dll"]
CMD ["--pool", "demo", "--assembly", "/app/demo/Demo.dll"]
