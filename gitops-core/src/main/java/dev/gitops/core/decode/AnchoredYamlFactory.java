package dev.gitops.core.decode;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactoryBuilder;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.Reader;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.ScalarEvent;

/**
 * A {@link YAMLFactory} whose parsers report the anchor and the tag of the current node exactly:
 * Jackson's own reports no anchor on a scalar value ({@code getObjectId()} is null for {@code c:
 * &val x}, so an alias of it, {@code d: *val}, could not be resolved), and on the first key of an
 * anchored or tagged mapping it reports the mapping's anchor and tag as the key's. Its parsers
 * also say whether a key was written plain (a quoted {@code "<<"} is no merge key) and which
 * event a parse error stopped at. Every parser it makes, from bytes, a stream, characters or a
 * reader, is of this kind.
 */
final class AnchoredYamlFactory extends YAMLFactory {

  private static final long serialVersionUID = 1L;

  AnchoredYamlFactory(YAMLFactoryBuilder builder) {
    super(builder);
  }

  @Override
  protected YAMLParser _createParser(byte[] data, int offset, int len, IOContext ctxt) throws IOException {
    return _createParser(_createReader(data, offset, len, null, ctxt), ctxt);
  }

  @Override
  protected YAMLParser _createParser(java.io.InputStream in, IOContext ctxt) throws IOException {
    return _createParser(_createReader(in, null, ctxt), ctxt);
  }

  @Override
  protected YAMLParser _createParser(char[] data, int offset, int len, IOContext ctxt, boolean recyclable)
      throws IOException {
    return _createParser(new java.io.CharArrayReader(data, offset, len), ctxt);
  }

  @Override
  protected YAMLParser _createParser(Reader reader, IOContext ctxt) throws IOException {
    return new Parser(ctxt, _parserFeatures, _yamlParserFeatures, _loaderOptions, _objectCodec, reader);
  }

  /** A YAML parser whose {@link #getObjectId} and {@link #getTypeId} are those of the current token's own node. */
  static final class Parser extends YAMLParser {

    Parser(IOContext ctxt, int parserFeatures, int formatFeatures, LoaderOptions loaderOptions, ObjectCodec codec,
        Reader reader) {
      super(ctxt, parserFeatures, formatFeatures, loaderOptions, codec, reader);
    }

    @Override
    public String getObjectId() throws IOException {
      Event own = ownEvent();
      if (own instanceof ScalarEvent s) {
        return s.getAnchor();
      }
      return own instanceof CollectionStartEvent c ? c.getAnchor() : super.getObjectId();
    }

    /** The node's tag as Jackson gives it ({@code tag:yaml.org,2002:str}, {@code foo} for {@code !foo}), or null. */
    @Override
    public String getTypeId() throws IOException {
      Event own = ownEvent();
      String tag;
      if (own instanceof ScalarEvent s) {
        tag = s.getTag();
      } else if (own instanceof CollectionStartEvent c) {
        tag = c.getTag();
      } else {
        return super.getTypeId();
      }
      while (tag != null && tag.startsWith("!")) {
        tag = tag.substring(1);  // as Jackson gives a local tag: "!foo" is "foo"
      }
      return tag;
    }

    /** The event of the current token's own node (a key, a scalar, a collection's start), or null. */
    private Event ownEvent() {
      JsonToken t = currentToken();
      if (t == null || isCurrentAlias()) {
        return null;
      }
      if ((t.isScalarValue() || t == JsonToken.FIELD_NAME) && _lastEvent instanceof ScalarEvent) {
        return _lastEvent;
      }
      boolean start = t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY;
      return start && _lastEvent instanceof CollectionStartEvent ? _lastEvent : null;
    }

    /** Whether the current key or scalar was written plain: not quoted, not a block scalar. */
    boolean isPlainScalar() {
      return _lastEvent instanceof ScalarEvent s && s.isPlain();
    }

    /** The event read last: the one a parse error stopped at (an alias or a collection as a key). */
    Event lastEvent() {
      return _lastEvent;
    }
  }
}
