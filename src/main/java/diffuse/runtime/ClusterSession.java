package diffuse.runtime;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Server;
import org.tensorflow.Session;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.JobDef;
import org.tensorflow.proto.ServerDef;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GetCode;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_Message;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetTarget;

/**
 * TensorFlow's distributed runtime for in-graph replication across machines: every machine runs an
 * {@link Server} for its task of the job {@code worker}; the chief (task 0) builds one graph whose
 * towers are pinned to {@code /job:worker/task:N} and runs it through a session whose target is its
 * own server ({@code grpc://host:port}).
 *
 * <p>TensorFlow Java 1.1's public {@link Session} takes no target (tensorflow/java#369): a plain
 * session fails with "Cannot assign a device for operation …: was explicitly assigned to
 * /job:worker/task:1/device:CPU:0 but available devices are [ /job:localhost/replica:0/task:0/device:CPU:0 ]".
 * So this class makes the session with the C API that TensorFlow Java exports
 * ({@code TF_NewSessionOptions}, {@code TF_SetTarget}, {@code TF_NewSession}) and wraps it in a
 * {@link Session} through that class's package-private constructor — the one place the project
 * reaches into TensorFlow Java's internals. If a release changes them, {@link #open} fails with a
 * message saying so; a release whose Session accepts a target would make this class one line.
 */
public final class ClusterSession {
  private ClusterSession() {}

  /** A cluster of {@code hosts} (host:port, index = task index) in the job {@code worker}. */
  public static ClusterDef cluster(List<String> hosts) {
    JobDef.Builder job = JobDef.newBuilder().setName("worker");
    for (int i = 0; i < hosts.size(); i++) {
      if (!hosts.get(i).matches("[^:\\s]+:\\d{1,5}")) {
        throw diffuse.api.DiffuseException.badValue("cluster", "cluster takes host:port,host:port,...; got '" + hosts.get(i) + "'");
      }
      job.putTasks(i, hosts.get(i));
    }
    return ClusterDef.newBuilder().addJob(job).build();
  }

  /** Starts the server of task {@code taskIndex}; close it to stop. */
  public static Server startServer(List<String> hosts, int taskIndex) {
    if (taskIndex < 0 || taskIndex >= hosts.size()) {
      throw diffuse.api.DiffuseException.badValue("taskIndex", "taskIndex must be within 0.." + (hosts.size() - 1) + ", got " + taskIndex);
    }
    Server s = new Server(ServerDef.newBuilder().setCluster(cluster(hosts)).setJobName("worker")
        .setTaskIndex(taskIndex).setProtocol("grpc").build());
    s.start();
    return s;
  }

  /** The towers of a cluster run: one per task, {@code worker:N}. */
  public static List<String> towers(int tasks) {
    return java.util.stream.IntStream.range(0, tasks).mapToObj(i -> "worker:" + i).toList();
  }

  /** A session on {@code graph} whose target is {@code grpc://hostPort}. */
  public static Session open(Graph graph, ConfigProto config, String hostPort) {
    TF_Graph handle;
    Constructor<Session> wrap;
    try {
      Field f = Graph.class.getDeclaredField("nativeHandle");
      f.setAccessible(true);
      handle = (TF_Graph) f.get(graph);
      wrap = Session.class.getDeclaredConstructor(Graph.class, TF_Session.class);
      wrap.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("this TensorFlow Java release does not let a session take a target"
          + " (Graph.nativeHandle / Session(Graph, TF_Session) not found: " + e + "); multi-machine training needs"
          + " TensorFlow Java 1.1's internals or a release whose Session accepts a target", e);
    }
    TF_SessionOptions opts = TF_NewSessionOptions();
    try (TF_Status status = TF_Status.newStatus()) {
      TF_SetTarget(opts, "grpc://" + hostPort);
      byte[] cfg = config.toByteArray();
      try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(cfg)) {
        TF_SetConfig(opts, p, cfg.length, status);
      }
      TF_Session session = TF_NewSession(handle, opts, status);
      if (TF_GetCode(status) != 0) {
        throw new IllegalStateException("cannot open a session on grpc://" + hostPort + ": " + TF_Message(status).getString());
      }
      return wrap.newInstance(graph, session);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot wrap the cluster session: " + e, e);
    } finally {
      TF_DeleteSessionOptions(opts);
    }
  }
}
