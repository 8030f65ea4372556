package diffuse.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A labelled data set from a folder with one subfolder per class (subfolder name = label name,
 * sorted), holding PNG or JPEG images. Images are resized to a square of {@code imageSize} pixels.
 * The set is grayscale if every image is, else RGB.
 */
final class ImageFolder {
  private ImageFolder() {}

  public static Dataset load(Path root, int imageSize) {
    if (!Files.isDirectory(root)) {
      throw new DataException("image folder not found: " + root);
    }
    if (imageSize < 4 || imageSize % 4 != 0) {
      throw diffuse.api.DiffuseException.badValue("imageSize", "imageSize must be a positive multiple of 4, got " + imageSize);
    }
    List<Path> classDirs;
    try (Stream<Path> s = Files.list(root)) {
      classDirs = s.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      throw new DataException("cannot list " + root + ": " + e.getMessage(), e);
    }
    if (classDirs.isEmpty()) {
      throw new DataException(root + " has no subfolders; put each class's images in a subfolder named after it");
    }
    List<String> names = new ArrayList<>();
    List<BufferedImage> images = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    boolean color = false;
    for (Path dir : classDirs) {
      int label = names.size();
      names.add(dir.getFileName().toString());
      List<Path> files;
      try (Stream<Path> s = Files.list(dir)) {
        files = s.filter(ImageFolder::isImage).sorted().toList();
      } catch (IOException e) {
        throw new DataException("cannot list " + dir + ": " + e.getMessage(), e);
      }
      if (files.isEmpty()) {
        throw new DataException("class folder " + dir + " holds no .png/.jpg/.jpeg images");
      }
      for (Path f : files) {
        BufferedImage img;
        try {
          img = ImageIO.read(f.toFile());
        } catch (IOException e) {
          throw new DataException("cannot read image " + f + ": " + e.getMessage(), e);
        }
        if (img == null) {
          throw new DataException("not a readable PNG/JPEG image: " + f);
        }
        BufferedImage scaled = resize(img, imageSize);
        color |= hasColor(scaled);
        images.add(scaled);
        labels.add(label);
      }
    }
    int c = color ? 3 : 1;
    int per = imageSize * imageSize * c;
    byte[] pixels = new byte[images.size() * per];
    for (int i = 0; i < images.size(); i++) {
      BufferedImage img = images.get(i);
      int o = i * per;
      for (int yy = 0; yy < imageSize; yy++) {
        for (int xx = 0; xx < imageSize; xx++) {
          int rgb = img.getRGB(xx, yy);
          int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
          if (c == 1) {
            pixels[o++] = (byte) Math.round(0.299 * r + 0.587 * g + 0.114 * b);
          } else {
            pixels[o++] = (byte) r;
            pixels[o++] = (byte) g;
            pixels[o++] = (byte) b;
          }
        }
      }
    }
    int[] y = labels.stream().mapToInt(Integer::intValue).toArray();
    return new Dataset("folder:" + root, pixels, y, imageSize, imageSize, c, names);
  }

  private static boolean isImage(Path f) {
    String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
    return Files.isRegularFile(f) && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg"));
  }

  private static BufferedImage resize(BufferedImage src, int size) {
    BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(src, 0, 0, size, size, null);
    g.dispose();
    return out;
  }

  private static boolean hasColor(BufferedImage img) {
    for (int yy = 0; yy < img.getHeight(); yy++) {
      for (int xx = 0; xx < img.getWidth(); xx++) {
        int rgb = img.getRGB(xx, yy);
        int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
        if (r != g || g != b) {
          return true;
        }
      }
    }
    return false;
  }
}
