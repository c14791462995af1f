namespace Broker;

/// <summary>Marks a static method that pool workers may run, as Celery's <c>@app.task</c> does. Tasks travel through
/// a broker, where anyone who can reach it could write one: a worker runs only marked methods, and refuses and
/// dead-letters a task that names anything else.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class PoolTaskAttribute : Attribute;
