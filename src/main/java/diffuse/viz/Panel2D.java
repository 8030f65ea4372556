package diffuse.viz;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;

/**
 * One square plot of the plane [−r, r]² drawn with Java2D: frame, ticks, axis titles and a title,
 * and helpers to draw points, arrows and paths in data coordinates.
 */
final class Panel2D {
  public static final Color[] CLASS_COLORS = {new Color(31, 119, 180), new Color(255, 127, 14),
      new Color(44, 160, 44), new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75),
      new Color(227, 119, 194), new Color(127, 127, 127)};

  private final Graphics2D g;
  private final int x0, y0, size;
  private final double range;

  /** Draws the frame of a panel whose plot area is {@code size}² at (x0, y0) of {@code g}. */
  public Panel2D(Graphics2D g, int x0, int y0, int size, double range, String title) {
    this.g = g;
    this.x0 = x0;
    this.y0 = y0;
    this.size = size;
    this.range = range;
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(x0, y0, size, size);
    g.setColor(new Color(235, 235, 235));
    for (double v = -Math.floor(range); v <= range; v += 0.5) {
      g.draw(new Line2D.Double(px(v), y0, px(v), y0 + size));
      g.draw(new Line2D.Double(x0, py(v), x0 + size, py(v)));
    }
    g.setColor(Color.BLACK);
    g.setStroke(new BasicStroke(1f));
    g.drawRect(x0, y0, size, size);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    for (double v = -Math.floor(range); v <= range + 1e-9; v += 1) {
      String s = String.format("%.0f", v);
      g.drawString(s, (int) px(v) - g.getFontMetrics().stringWidth(s) / 2, y0 + size + 14);
      g.drawString(s, x0 - 6 - g.getFontMetrics().stringWidth(s), (int) py(v) + 4);
      g.draw(new Line2D.Double(px(v), y0 + size, px(v), y0 + size + 4));
      g.draw(new Line2D.Double(x0 - 4, py(v), x0, py(v)));
    }
    g.drawString("pixel 1", x0 + size / 2 - 18, y0 + size + 28);
    Graphics2D r = (Graphics2D) g.create();
    r.rotate(-Math.PI / 2);
    r.drawString("pixel 2", -(y0 + size / 2 + 18), x0 - 22);
    r.dispose();
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
    g.drawString(title, x0, y0 - 8);
  }

  public double px(double x) {
    return x0 + (x + range) / (2 * range) * size;
  }

  public double py(double y) {
    return y0 + (range - y) / (2 * range) * size;
  }

  /** Data units per pixel. */
  public double unitsPerPixel() {
    return 2 * range / size;
  }

  public void point(double x, double y, Color c, double radius) {
    if (Math.abs(x) > range || Math.abs(y) > range) {
      return;
    }
    g.setColor(c);
    g.fill(new java.awt.geom.Ellipse2D.Double(px(x) - radius, py(y) - radius, 2 * radius, 2 * radius));
  }

  /** An arrow from (x, y) by (dx, dy) in data units. */
  public void arrow(double x, double y, double dx, double dy, Color c, float width) {
    double sx = px(x), sy = py(y), ex = px(x + dx), ey = py(y + dy);
    g.setColor(c);
    g.setStroke(new BasicStroke(width));
    g.draw(new Line2D.Double(sx, sy, ex, ey));
    double len = Math.hypot(ex - sx, ey - sy);
    if (len < 1.5) {
      return;
    }
    double ux = (ex - sx) / len, uy = (ey - sy) / len;
    double head = Math.min(6, 0.4 * len + 2);
    Path2D tip = new Path2D.Double();
    tip.moveTo(ex, ey);
    tip.lineTo(ex - head * ux + 0.5 * head * uy, ey - head * uy - 0.5 * head * ux);
    tip.lineTo(ex - head * ux - 0.5 * head * uy, ey - head * uy + 0.5 * head * ux);
    tip.closePath();
    g.fill(tip);
  }

  /** A polyline through points xs[i·2], xs[i·2+1]. */
  public void path(double[] xs, Color c, float width) {
    Path2D p = new Path2D.Double();
    p.moveTo(px(xs[0]), py(xs[1]));
    for (int i = 2; i < xs.length; i += 2) {
      p.lineTo(px(xs[i]), py(xs[i + 1]));
    }
    g.setColor(c);
    g.setStroke(new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
    Graphics2D clip = (Graphics2D) g.create();
    clip.clipRect(x0, y0, size, size);
    clip.draw(p);
    clip.dispose();
  }

  /** A white canvas for {@code panels} panels side by side, with a title and room for a legend. */
  public static BufferedImage canvas(int panels, int size, String title, int legendHeight) {
    int w = 70 + panels * (size + 60);
    int h = 60 + size + 40 + legendHeight;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setColor(Color.BLACK);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, 12, 20);
    g.dispose();
    return img;
  }

  /** Left edge of panel {@code i} on a {@link #canvas}. */
  public static int panelX(int i, int size) {
    return 60 + i * (size + 60);
  }

  /** Draws a one-line legend of colored marks at (x, y). */
  public static void legend(Graphics2D g, int x, int y, String[] names, Color[] colors, boolean lines) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int i = 0; i < names.length; i++) {
      g.setColor(colors[i]);
      if (lines) {
        g.setStroke(new BasicStroke(2.5f));
        g.drawLine(x, y - 4, x + 18, y - 4);
      } else {
        g.fillOval(x + 5, y - 9, 9, 9);
      }
      g.setColor(Color.BLACK);
      g.drawString(names[i], x + 24, y);
      x += 34 + g.getFontMetrics().stringWidth(names[i]);
    }
  }
}
