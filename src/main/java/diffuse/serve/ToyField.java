package diffuse.serve;

import diffuse.api.DiffuseException;
import diffuse.app.ToyWorld;
import diffuse.sampling.ClassifierFreeGuidance;
import diffuse.sampling.FieldProbe;
import diffuse.sampling.Generator;
import diffuse.sampling.SamplerKind;
import diffuse.sampling.SamplerSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The two-pixel world's endpoint, its query parameters read and checked. */
final class ToyField {
  private ToyField() {}

  /**
   * GET /api/toy/field: the guided field −ε̃ on a grid, the clean data and a few DDIM paths, for the
   * exact mixture ({@code world=exact}, {@code classes}) or a served toy model.
   */
  static Reply answer(Map<String, ToyWorld> toys, Map<String, String> q) {
    String world = q.getOrDefault("world", "exact");
    int classes = (int) queryLong(q, "classes", 3, 1, 12);
    int label = (int) queryLong(q, "class", 0, 0, 11);
    int t = (int) queryLong(q, "t", 300, 0, 999);
    int paths = (int) queryLong(q, "paths", 40, 0, 200);
    int steps = (int) queryLong(q, "steps", 40, 1, 200);
    int cells = (int) queryLong(q, "cells", 17, 4, 40);
    double scale = queryNumber(q, "guidance", 1);
    if (Math.abs(scale) > Api.MAX_SCALE) {
      throw DiffuseException.badValue("guidance", "guidance must be within ±" + (int) Api.MAX_SCALE + ", got " + scale);
    }
    ToyWorld w;
    boolean close = false;
    if (world.equals("exact")) {
      w = ToyWorld.exact(classes);
      close = true;
    } else {
      w = toys.get(world);
      if (w == null) {
        throw new DiffuseException(DiffuseException.Code.UNKNOWN_NAME, "world", "unknown world '" + world
            + "'; use exact or a served toy model: " + String.join(", ", toys.keySet()), null);
      }
    }
    w.checkClass(label);
    w.checkTimestep(t);
    double range = 2.2;
    float[] grid = FieldProbe.grid(cells, range);
    float[] eps = FieldProbe.field(w.net(), w.nullLabel(), grid, t, label, List.of(scale)).get(0);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("world", w.name());
    out.put("t", t);
    out.put("sqrtAlphaBar", w.schedule().sqrtAlphasCumprod(t));
    out.put("range", range);
    out.put("cells", cells);
    out.put("grid", grid);
    out.put("eps", eps);
    int shown = Math.min(w.data().size(), 900);
    float[] pts = new float[2 * shown];
    int[] labels = new int[shown];
    for (int k = 0; k < shown; k++) {
      int i = (int) ((k * 7919L) % w.data().size());
      pts[2 * k] = w.data().points()[2 * i];
      pts[2 * k + 1] = w.data().points()[2 * i + 1];
      labels[k] = w.data().labels()[i];
    }
    out.put("points", pts);
    out.put("pointLabels", labels);
    out.put("labels", w.data().labelNames());
    if (paths > 0) {
      Generator gen = new Generator(w.net(), w.schedule(), w.nullLabel(), 2);
      List<float[]> xs = FieldProbe.paths(gen, new SamplerSpec(SamplerKind.DDIM, steps, 0, false), label, scale, paths, 0);
      out.put("paths", xs);
    }
    if (close) {
      try {
        w.close();
      } catch (Exception ignored) {
        // the exact world holds nothing
      }
    }
    return Reply.json(200, out);
  }

  static long queryLong(Map<String, String> q, String name, long fallback, long min, long max) {
    String v = q.get(name);
    if (v == null) {
      return fallback;
    }
    long x;
    try {
      x = Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw DiffuseException.badValue(name, name + " must be a whole number, got '" + v + "'");
    }
    if (x < min || x > max) {
      throw DiffuseException.badValue(name, name + " must be within " + min + ".." + max + ", got " + x);
    }
    return x;
  }

  static double queryNumber(Map<String, String> q, String name, double fallback) {
    String v = q.get(name);
    if (v == null) {
      return fallback;
    }
    double x;
    try {
      x = Double.parseDouble(v.strip());
    } catch (NumberFormatException e) {
      throw DiffuseException.badValue(name, name + " must be a number, got '" + v + "'");
    }
    if (name.equals("guidance")) {
      ClassifierFreeGuidance.requireFinite(x);
    }
    return x;
  }
}
