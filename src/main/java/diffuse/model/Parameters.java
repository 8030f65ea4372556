package diffuse.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * A set of float32 graph variables (TensorFlow {@code VariableV2}) created from {@link ParamSpec}s,
 * each with a placeholder and an assign op so values can be written from Java. Initial values are
 * drawn in Java from a seeded {@link Random}, so a run is reproducible independently of
 * TensorFlow's random kernels.
 *
 * <p>Variable names are {@code prefix + spec.name()}; the same network built with prefix {@code
 * ""} and {@code "ema."} gives the weights and their moving average.
 */
public final class Parameters {
  private final Ops tf;
  private final String prefix;
  private final List<ParamSpec> specs = new ArrayList<>();
  private final List<Variable<TFloat32>> variables = new ArrayList<>();
  private final List<Placeholder<TFloat32>> feeds = new ArrayList<>();
  private final List<Assign<TFloat32>> assigns = new ArrayList<>();

  public Parameters(Ops tf, String prefix) {
    this.tf = tf;
    this.prefix = prefix;
  }

  /** Creates the variable for {@code spec} and returns it. */
  public Variable<TFloat32> create(ParamSpec spec) {
    String name = prefix + spec.name();
    Shape shape = Shape.of(spec.shape());
    Variable<TFloat32> v = tf.withName(name).variable(shape, TFloat32.class);
    Placeholder<TFloat32> feed =
        tf.withName(name + ".value").placeholder(TFloat32.class, Placeholder.shape(shape));
    Assign<TFloat32> assign = tf.withName(name + ".load").assign(v, feed);
    specs.add(spec);
    variables.add(v);
    feeds.add(feed);
    assigns.add(assign);
    return v;
  }

  /** The variable already created for {@code spec} (a second tower sharing the first one's weights). */
  public Variable<TFloat32> existing(ParamSpec spec) {
    for (int i = 0; i < specs.size(); i++) {
      if (specs.get(i).name().equals(spec.name())) {
        return variables.get(i);
      }
    }
    throw new IllegalStateException("no variable " + prefix + spec.name() + " yet");
  }

  /** Creates one variable per spec, in order, and returns this. */
  public Parameters createAll(List<ParamSpec> all) {
    all.forEach(this::create);
    return this;
  }

  public List<ParamSpec> specs() {
    return Collections.unmodifiableList(specs);
  }

  public List<Variable<TFloat32>> variables() {
    return Collections.unmodifiableList(variables);
  }

  /** Total number of scalars. */
  public long count() {
    return specs.stream().mapToLong(ParamSpec::size).sum();
  }

  /** Draws initial values from each spec's distribution with {@code rng}. */
  public static Map<String, float[]> initialValues(List<ParamSpec> specs, Random rng) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (ParamSpec s : specs) {
      float[] a = new float[s.size()];
      switch (s.init()) {
        case ZEROS -> {}
        case ONES -> java.util.Arrays.fill(a, 1f);
        case NORMAL -> {
          for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rng.nextGaussian() * s.std());
          }
        }
      }
      out.put(s.name(), a);
    }
    return out;
  }

  /** Zeros for every spec (for optimizer slots). */
  public static Map<String, float[]> zeros(List<ParamSpec> specs) {
    Map<String, float[]> out = new LinkedHashMap<>();
    specs.forEach(s -> out.put(s.name(), new float[s.size()]));
    return out;
  }

  /** Writes {@code values} (keyed by spec name, without prefix) into the variables. */
  public void load(Session session, Map<String, float[]> values) {
    List<TFloat32> tensors = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (int i = 0; i < specs.size(); i++) {
        ParamSpec s = specs.get(i);
        float[] v = values.get(s.name());
        if (v == null || v.length != s.size()) {
          throw new IllegalArgumentException(
              "no value of size " + s.size() + " for parameter " + s.name());
        }
        TFloat32 t = TFloat32.tensorOf(Shape.of(s.shape()), DataBuffers.of(v, true, false));
        tensors.add(t);
        runner.feed(feeds.get(i), t).addTarget(assigns.get(i));
      }
      try (Result ignored = runner.run()) {
        // targets only: nothing fetched, but the Result is native and closed like every other
      }
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  /** Reads every variable's current value, keyed by spec name without prefix. */
  public Map<String, float[]> read(Session session) {
    Map<String, float[]> out = new LinkedHashMap<>();
    Session.Runner runner = session.runner();
    variables.forEach(runner::fetch);
    try (Result r = runner.run()) {
      for (int i = 0; i < specs.size(); i++) {
        float[] a = new float[specs.get(i).size()];
        ((TFloat32) r.get(i)).copyTo(DataBuffers.of(a, false, false));
        out.put(specs.get(i).name(), a);
      }
    }
    return out;
  }

  /** The variables as operands, for gradient computation. */
  public List<Operand<TFloat32>> operands() {
    return new ArrayList<>(variables);
  }
}
