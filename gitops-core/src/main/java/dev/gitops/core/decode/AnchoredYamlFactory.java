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
import org.yaml.snakeyaml.events.ScalarEvent;

/**
 * A {@link YAMLFactory} whose parsers report the anchor of a scalar value too: Jackson's own
 * reports it on collections and keys only ({@code getObjectId()} is null for {@code c: &val x}),
 * so an alias of a scalar ({@code d: *val}) could not be resolved. Every parser it makes, from
 * bytes, a stream, characters or a reader, is of this kind.
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

  /** A YAML parser whose {@link #getObjectId} is the current scalar value's anchor as well. */
  static final class Parser extends YAMLParser {

    Parser(IOContext ctxt, int parserFeatures, int formatFeatures, LoaderOptions loaderOptions, ObjectCodec codec,
        Reader reader) {
      super(ctxt, parserFeatures, formatFeatures, loaderOptions, codec, reader);
    }

    @Override
    public String getObjectId() throws IOException {
      String id = super.getObjectId();
      JsonToken t = currentToken();
      if (id == null && t != null && t.isScalarValue() && !isCurrentAlias() && _lastEvent instanceof ScalarEvent s) {
        return s.getAnchor();
      }
      return id;
    }
  }
}
