package diffuse.viz;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/** A row of images with a caption (one or more lines) under each: a digit melting into noise, say. */
public final class Strips {
  private Strips() {}

  public static BufferedImage strip(String title, List<BufferedImage> images, List<String> captions, int scale) {
    int w = images.get(0).getWidth() * scale, h = images.get(0).getHeight() * scale;
    int gap = 12, pad = 14;
    BufferedImage out = new BufferedImage(pad * 2 + images.size() * (w + gap) - gap, 36 + h + 44, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, out.getWidth(), out.getHeight());
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.drawString(title, pad, 20);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int i = 0; i < images.size(); i++) {
      int x = pad + i * (w + gap);
      g.drawImage(images.get(i), x, 32, w, h, null);
      String[] lines = captions.get(i).split("\n");
      for (int l = 0; l < lines.length; l++) {
        g.drawString(lines[l], x + (w - g.getFontMetrics().stringWidth(lines[l])) / 2, 32 + h + 18 + 16 * l);
      }
    }
    g.dispose();
    return out;
  }
}
