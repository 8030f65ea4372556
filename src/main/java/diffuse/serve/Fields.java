package diffuse.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonSyntaxException;
import diffuse.api.DiffuseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The fields of a JSON request body, read with their types checked: a field of the wrong type, or
 * one the endpoint does not know, is a {@code BAD_VALUE} naming it.
 */
final class Fields {
  private final JsonObject body;

  private Fields(JsonObject body) {
    this.body = body;
  }

  /** Parses a request body that must be a JSON object whose fields are all in {@code known}. */
  static Fields parse(String text, Set<String> known) {
    JsonElement e;
    try {
      e = text == null || text.isBlank() ? new JsonObject() : strict(text);
    } catch (com.google.gson.stream.MalformedJsonException ex) {
      throw DiffuseException.badValue("body", "body is not valid JSON" + where(ex));
    } catch (JsonSyntaxException | IllegalStateException | java.io.IOException ex) {
      throw DiffuseException.badValue("body", "body is not valid JSON: " + DiffuseException.firstLine(
          ex.getCause() != null ? ex.getCause().getMessage() : ex.getMessage()));
    }
    if (!e.isJsonObject()) {
      throw DiffuseException.badValue("body", "body must be a JSON object");
    }
    JsonObject o = e.getAsJsonObject();
    for (String k : o.keySet()) {
      if (!known.contains(k)) {
        throw DiffuseException.badValue(k, k + " is not a field of this request (known: " + String.join(", ",
            known.stream().sorted().toList()) + ")");
      }
    }
    return new Fields(o);
  }

  /**
   * The JSON value of {@code text}, read strictly (RFC 8259: no comments, single quotes, unquoted
   * names or trailing text, which Gson's own parser lets through) and refusing a name that repeats
   * within an object, as a BAD_VALUE naming it: {@code {"n": 1, "n": 64}} has no one meaning.
   */
  static JsonElement strict(String text) throws java.io.IOException {
    try (com.google.gson.stream.JsonReader r = new com.google.gson.stream.JsonReader(new java.io.StringReader(text))) {
      r.setStrictness(com.google.gson.Strictness.STRICT);
      check(r, 0);
      if (r.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
        throw new JsonSyntaxException("more after the JSON value at " + r.getPath());
      }
    }
    return JsonParser.parseString(text); // the values, once the text is known to be strict JSON
  }

  /** " at line L column C", from Gson's message (which otherwise speaks of its own settings), or "". */
  private static String where(Exception e) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("at line \\d+ column \\d+")
        .matcher(String.valueOf(e.getMessage()));
    return m.find() ? " (" + m.group() + ")" : "";
  }

  /** Deepest nesting of arrays and objects a body may have (a request's own is 2). */
  static final int MAX_DEPTH = 32;

  /** Reads one value strictly, refusing a repeated name in any object of it, and nesting past {@link #MAX_DEPTH}. */
  private static void check(com.google.gson.stream.JsonReader r, int depth) throws java.io.IOException {
    com.google.gson.stream.JsonToken t = r.peek();
    if ((t == com.google.gson.stream.JsonToken.BEGIN_OBJECT || t == com.google.gson.stream.JsonToken.BEGIN_ARRAY)
        && depth >= MAX_DEPTH) {
      throw DiffuseException.badValue("body", "body nests arrays and objects deeper than " + MAX_DEPTH + " levels");
    }
    switch (t) {
      case BEGIN_OBJECT -> {
        java.util.Set<String> names = new java.util.HashSet<>();
        r.beginObject();
        while (r.hasNext()) {
          String name = r.nextName();
          if (!names.add(name)) {
            throw DiffuseException.badValue(name, name + " is given twice in one object");
          }
          try {
            check(r, depth + 1);
          } catch (com.google.gson.stream.MalformedJsonException e) {
            throw DiffuseException.badValue(name, name + " is not a JSON value" + where(e) + ": JSON has numbers,"
                + " strings in double quotes, true, false, null, arrays and objects (no NaN, Infinity or 'quotes')");
          }
        }
        r.endObject();
      }
      case BEGIN_ARRAY -> {
        r.beginArray();
        while (r.hasNext()) {
          check(r, depth + 1);
        }
        r.endArray();
      }
      default -> r.skipValue();
    }
  }

  boolean has(String name) {
    return body.has(name) && !body.get(name).isJsonNull();
  }

  String string(String name, String fallback) {
    if (!has(name)) {
      return fallback;
    }
    JsonElement e = body.get(name);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw DiffuseException.badValue(name, name + " must be a string");
    }
    return e.getAsString();
  }

  /** A finite number; also accepted as a string ("2.5"), so that a non-finite one ("NaN") is named as such. */
  double number(String name, double fallback) {
    if (!has(name)) {
      return fallback;
    }
    return toNumber(name, body.get(name));
  }

  private static double toNumber(String name, JsonElement e) {
    if (e.isJsonPrimitive()) {
      JsonPrimitive p = e.getAsJsonPrimitive();
      try {
        if (p.isNumber() || p.isString()) {
          double v = Double.parseDouble(p.getAsString().strip());
          if (!Double.isFinite(v)) { // 1e999 too: JSON has no infinity to write it back with
            throw DiffuseException.badValue(name, name + " must be a finite number, got " + shown(e));
          }
          return v;
        }
      } catch (NumberFormatException ignored) {
        // fall through
      }
    }
    throw DiffuseException.badValue(name, name + " must be a number, got " + e);
  }

  /** Numbers from an array (or a single number). */
  List<Double> numbers(String name, List<Double> fallback) {
    if (!has(name)) {
      return fallback;
    }
    JsonElement e = body.get(name);
    List<Double> out = new ArrayList<>();
    if (e.isJsonArray()) {
      JsonArray a = e.getAsJsonArray();
      for (JsonElement x : a) {
        out.add(toNumber(name, x));
      }
    } else {
      out.add(toNumber(name, e));
    }
    return out;
  }

  long integer(String name, long fallback, long min, long max) {
    if (!has(name)) {
      return fallback;
    }
    JsonElement e = body.get(name);
    java.math.BigDecimal v;
    try {
      v = new java.math.BigDecimal(e.getAsJsonPrimitive().getAsString().strip());
    } catch (RuntimeException ex) { // not a primitive, or not a decimal number (NaN, "seven")
      throw DiffuseException.badValue(name, name + " must be a whole number, got " + e);
    }
    // the range first: stripping the zeros of a huge value (100e2147483647) overflows its scale
    if (v.compareTo(java.math.BigDecimal.valueOf(min)) < 0 || v.compareTo(java.math.BigDecimal.valueOf(max)) > 0) {
      throw DiffuseException.badValue(name, name + " must be within " + min + ".." + max + ", got " + shown(e));
    }
    if (v.stripTrailingZeros().scale() > 0) {
      throw DiffuseException.badValue(name, name + " must be a whole number, got " + e);
    }
    return v.longValueExact(); // exact: seeds above 2^53 keep every digit
  }

  /** A value as the request wrote it, cut at 40 characters ("1e999999999" is not written out in full). */
  private static String shown(JsonElement e) {
    String s = e.toString();
    return s.length() <= 40 ? s : s.substring(0, 40) + "…";
  }

  Integer optionalInt(String name, long min, long max) {
    return has(name) ? (int) integer(name, 0, min, max) : null;
  }

  boolean bool(String name, boolean fallback) {
    if (!has(name)) {
      return fallback;
    }
    JsonElement e = body.get(name);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
      throw DiffuseException.badValue(name, name + " must be true or false");
    }
    return e.getAsBoolean();
  }
}
