package dev.gitops.core;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Calls every public constructor and method of a type with {@code null} in each reference
 * parameter in turn (a sample value in every other) and reports each call that did not refuse at
 * once with a {@link NullPointerException} (or an {@link IllegalArgumentException}) naming what is missing: one that went through, one that
 * failed otherwise, or one that failed with the JVM's own message ({@code Cannot invoke ... because
 * "x" is null}), which says where it broke, deep inside, not what the caller got wrong. What a
 * parameter may be null for is said by listing it as {@code "method#index"} (or {@code
 * "<init>#index"}), with the javadoc saying what null means there.
 *
 * <pre>{@code
 * List<String> wrong = new NullArguments().sample(String.class, () -> "x")
 *     .check(ResourceKey.class, null, Set.of());
 * assertThat(wrong).isEmpty();
 * }</pre>
 */
final class NullArguments {

  private static final Map<Class<?>, Object> PRIMITIVES = Map.of(int.class, 1, long.class, 1L, short.class, (short) 1,
      byte.class, (byte) 1, boolean.class, false, double.class, 1.0, float.class, 1.0f, char.class, 'x');

  private final Map<Class<?>, Supplier<?>> samples = new HashMap<>();

  /** Uses {@code value} wherever a parameter of {@code type} needs a non-null argument. */
  <T> NullArguments sample(Class<T> type, Supplier<? extends T> value) {
    samples.put(type, value);
    return this;
  }

  /**
   * The calls of {@code type}'s public constructors, its public static methods and, when {@code
   * instance} is given, its public instance methods (those of {@code Object} aside) that did not
   * refuse a null argument as they should; {@code nullable} names the parameters that take null.
   */
  List<String> check(Class<?> type, Object instance, Set<String> nullable) {
    return check(type, instance, nullable, Set.of());
  }

  /**
   * {@link #check(Class, Object, Set)}, where every parameter of one of {@code nullableTypes} takes
   * null too (an exception's message and cause, say).
   */
  List<String> check(Class<?> type, Object instance, Set<String> nullable, Set<Class<?>> nullableTypes) {
    List<Executable> calls = new ArrayList<>();
    if (!Modifier.isAbstract(type.getModifiers()) && !type.isInterface()) {
      calls.addAll(Arrays.asList(type.getConstructors()));
    }
    for (Method m : type.getMethods()) {
      // equals takes null by its contract, and compareTo throws NullPointerException by its own
      if (m.getDeclaringClass() == Object.class || m.isSynthetic() || m.isBridge()
          || m.getName().equals("equals") && m.getParameterCount() == 1
          || m.getName().equals("compareTo") && m.getParameterCount() == 1) {
        continue;
      }
      boolean isStatic = Modifier.isStatic(m.getModifiers());
      if (isStatic ? m.getDeclaringClass() == type : instance != null) {
        calls.add(m);
      }
    }
    List<String> wrong = new ArrayList<>();
    Set<String> used = new HashSet<>();
    for (Executable e : calls) {
      Class<?>[] types = e.getParameterTypes();
      for (int i = 0; i < types.length; i++) {
        if (types[i].isPrimitive() || nullableTypes.contains(types[i])) {
          continue;
        }
        String name = (e instanceof Constructor<?> ? "<init>" : e.getName()) + "#" + i;
        if (nullable.contains(name)) {
          used.add(name);
          continue;
        }
        String call = type.getSimpleName() + "." + describe(e) + " with null #" + i;
        Object[] args;
        try {
          args = arguments(types, i);
        } catch (IllegalStateException missing) {
          wrong.add(call + ": " + missing.getMessage());
          continue;
        }
        Throwable thrown = invoke(e, instance, args);
        if (thrown == null) {
          wrong.add(call + ": accepted");
        } else if (!(thrown instanceof NullPointerException || thrown instanceof IllegalArgumentException)
            || thrown.getMessage() == null
            || thrown.getMessage().contains("because \"") || thrown.getMessage().contains("because the return value")) {
          wrong.add(call + ": " + thrown);
        }
      }
    }
    Set<String> stale = new HashSet<>(nullable);
    stale.removeAll(used);
    stale.forEach(s -> wrong.add(type.getSimpleName() + ": no parameter " + s + " (stale nullable entry)"));
    return wrong;
  }

  private Object[] arguments(Class<?>[] types, int nullAt) {
    Object[] args = new Object[types.length];
    for (int j = 0; j < types.length; j++) {
      if (j != nullAt) {
        args[j] = sampleOf(types[j]);
      }
    }
    return args;
  }

  private Object sampleOf(Class<?> t) {
    Object primitive = PRIMITIVES.get(t);
    if (primitive != null) {
      return primitive;
    }
    Supplier<?> s = samples.get(t);
    if (s != null) {
      return s.get();
    }
    if (t.isEnum()) {
      return t.getEnumConstants()[0];
    }
    if (t.isArray()) {
      return java.lang.reflect.Array.newInstance(t.getComponentType(), 0);
    }
    throw new IllegalStateException("no sample value of " + t.getName() + " (give one with sample(...))");
  }

  private static Throwable invoke(Executable e, Object instance, Object[] args) {
    try {
      if (e instanceof Constructor<?> c) {
        c.newInstance(args);
      } else {
        Method m = (Method) e;
        m.setAccessible(true);
        m.invoke(Modifier.isStatic(m.getModifiers()) ? null : instance, args);
      }
      return null;
    } catch (InvocationTargetException ex) {
      return ex.getCause();
    } catch (ReflectiveOperationException | IllegalArgumentException ex) {
      // not the call's answer: a sample of the wrong type, say
      return new AssertionError("could not call " + describe(e) + ": " + ex, ex);
    }
  }

  private static String describe(Executable e) {
    return (e instanceof Constructor<?> ? "<init>" : e.getName()) + Arrays.stream(e.getParameterTypes())
        .map(Class::getSimpleName).collect(Collectors.joining(", ", "(", ")"));
  }
}
