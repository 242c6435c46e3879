package dev.gitops.images.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.Optional;
import java.util.regex.Pattern;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** A hand-built choice is checked against the OCI grammar before anything is written into Git. */
class ImageChoiceTest {

  private static final String IMAGE = "registry.example.com/team/web";
  private static final String SHA256 = "sha256:" + "0123456789abcdef".repeat(4);
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

  private static ImageChoice choice(String image, String tag, Optional<String> digest) {
    return new ImageChoice("apps:web", image, tag, digest, 1, 0, 0);
  }

  @Test
  void namesTagsAndDigestsOfTheOciGrammarAreTaken() {
    for (String image : new String[] {IMAGE, "nginx", "docker.io/library/nginx", "localhost:5000/team/web",
        "127.0.0.1:5000/a/b/c", "[::1]:5000/web", "ghcr.io/org/my_app.v2-x", "reg.io/a__b/c--d"}) {
      assertThat(choice(image, "v1.2.4", Optional.empty()).reference()).isEqualTo(image + ":v1.2.4");
    }
    for (String tag : new String[] {"latest", "v1.2.3-rc.1", "_x", "1.10", "main-3f2a1c0-1700000000", "A".repeat(128)}) {
      assertThat(choice(IMAGE, tag, Optional.empty()).tag()).isEqualTo(tag);
    }
    assertThat(choice(IMAGE, "v1", Optional.of(SHA256)).reference()).isEqualTo(IMAGE + ":v1@" + SHA256);
    assertThat(choice(IMAGE, "v1", Optional.of("sha512:" + "ab".repeat(64))).digest()).isPresent();
  }

  @Test
  void aBadTagIsRefusedNamingTheFieldAndTheValue() {
    for (String tag : new String[] {"", ".v1", "-v1", "v1.2.4+b7", "v1 2", "v1/x", "v1:x", "v1@x", "vé", "A".repeat(129),
        "v1\n", " v1"}) {
      assertThatThrownBy(() -> choice(IMAGE, tag, Optional.empty())).as("tag '%s'", tag)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("image choice of policy 'apps:web': tag '")
          .hasMessageContaining("is not a valid tag");
    }
    assertThatThrownBy(() -> choice(IMAGE, "v1.2.4+b7", Optional.empty()))
        .hasMessageContaining("tag 'v1.2.4+b7' is not a valid tag");
    // a control character is shown escaped, never printed as it is
    assertThat(catchThrowable(() -> choice(IMAGE, "v1\u001b[2J", Optional.empty())).getMessage())
        .contains("tag 'v1\\u001b[2J'").doesNotContain("\u001b");
  }

  @Test
  void anImageThatIsNotANameAloneIsRefusedNamingIt() {
    for (String image : new String[] {"", " ", "Registry.example.com/Team/web", "team//web", "team/web/", "web:v1",
        "web@" + SHA256, "reg.io/web:v1@" + SHA256, " web", "web ", "https://reg.io/web", "reg io/web", "reg.io/-web"}) {
      assertThatThrownBy(() -> choice(image, "v1", Optional.empty())).as("image '%s'", image)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("image choice of policy 'apps:web': image '" + image.substring(0, Math.min(1,
              image.length())));
    }
    assertThatThrownBy(() -> choice("web:v1", "v2", Optional.empty()))
        .hasMessageContaining("image 'web:v1' must be the image name alone");
    assertThatThrownBy(() -> choice("reg.io/Team/web", "v2", Optional.empty()))
        .hasMessageContaining("image 'reg.io/Team/web' is not an image name").hasMessageContaining("'Team'");
  }

  @Test
  void aDigestThatIsNotSha256Or512IsRefusedNamingIt() {
    for (String digest : new String[] {"", "sha256:", "sha256:abc", SHA256.toUpperCase(), "SHA256:" + SHA256.substring(7),
        SHA256 + "0", "md5:" + "ab".repeat(16), "sha512:" + "ab".repeat(32), "sha256:" + "g".repeat(64), SHA256 + "\n"}) {
      assertThatThrownBy(() -> choice(IMAGE, "v1", Optional.of(digest))).as("digest '%s'", digest)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("image choice of policy 'apps:web': digest '")
          .hasMessageContaining("is not a digest");
    }
  }

  @Test
  void missingFieldsBlankPolicyAndNegativeCountsAreRefused() {
    assertThatThrownBy(() -> new ImageChoice(null, IMAGE, "v1", Optional.empty(), 1, 0, 0))
        .isInstanceOf(NullPointerException.class).hasMessage("policy");
    assertThatThrownBy(() -> new ImageChoice("apps:web", IMAGE, null, Optional.empty(), 1, 0, 0))
        .isInstanceOf(NullPointerException.class).hasMessage("tag");
    assertThatThrownBy(() -> new ImageChoice(" ", IMAGE, "v1", Optional.empty(), 1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("policy name is blank");
    assertThatThrownBy(() -> new ImageChoice("apps:web", IMAGE, "v1", Optional.empty(), -1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("candidates -1");
  }

  @Property(tries = 500)
  void aTagIsTakenExactlyWhenItMatchesTheGrammar(
      @ForAll @StringLength(min = 0, max = 130) @CharRange(from = ' ', to = '~') String tag) {
    Throwable refused = catchThrowable(() -> choice(IMAGE, tag, Optional.empty()));
    if (TAG.matcher(tag).matches()) {
      assertThat(refused).isNull();
    } else {
      assertThat(refused).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tag '");
    }
  }
}
