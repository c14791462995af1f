using System.Reflection;

namespace Broker.Processes;

/// <summary>Calls a target and waits for it: a <c>Task</c> or <c>ValueTask</c> is awaited and its result returned,
/// and the target's own exception surfaces unwrapped, with its stack.</summary>
internal static class Invocation
{
    public static object? Run(MethodInfo method, object? instance, object?[] args)
    {
        var result = method.Invoke(instance, BindingFlags.DoNotWrapExceptions, binder: null, args, culture: null);
        var task = result switch
        {
            Task t => t,
            ValueTask t => t.AsTask(),
            { } value when value.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(ValueTask<>) =>
                (Task)type.GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(value, null)!,
            _ => null,
        };
        if (task is null)
        {
            return result;
        }
        task.GetAwaiter().GetResult();
        return ResultType(method) is null ? null : task.GetType().GetProperty(nameof(Task<int>.Result))!.GetValue(task);
    }

    /// <summary>The result type a caller sees: <c>T</c> for <c>Task&lt;T&gt;</c> or <c>ValueTask&lt;T&gt;</c>, null for none.</summary>
    public static Type? ResultType(MethodInfo method)
    {
        var type = method.ReturnType;
        if (type == typeof(void) || type == typeof(Task) || type == typeof(ValueTask))
        {
            return null;
        }
        return type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>))
            ? type.GetGenericArguments()[0]
            : type;
    }
}
