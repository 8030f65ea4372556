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
      e = text == null || text.isBlank() ? new JsonObject() : JsonParser.parseString(text);
    } catch (JsonSyntaxException | IllegalStateException ex) {
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
    if (v.stripTrailingZeros().scale() > 0) {
      throw DiffuseException.badValue(name, name + " must be a whole number, got " + e);
    }
    if (v.compareTo(java.math.BigDecimal.valueOf(min)) < 0 || v.compareTo(java.math.BigDecimal.valueOf(max)) > 0) {
      throw DiffuseException.badValue(name, name + " must be within " + min + ".." + max + ", got " + shown(e));
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
