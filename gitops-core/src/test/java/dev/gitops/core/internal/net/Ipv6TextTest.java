package dev.gitops.core.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** IPv6 text read without a look-up and written as RFC 5952 says, the one form both its users compare. */
class Ipv6TextTest {

  private static String canonical(String text) {
    return Ipv6Text.canonical(Ipv6Text.parse(text));
  }

  @Test
  void everyTextOfOneAddressIsWrittenOneWay() throws Exception {
    assertThat(canonical("2001:0db8:0:0::5")).isEqualTo("2001:db8::5");
    assertThat(canonical("2001:db8:0:0:1:0:0:5")).isEqualTo("2001:db8::1:0:0:5");  // the first of equal runs
    assertThat(canonical("0:0:0:0:0:0:0:1")).isEqualTo("::1");
    assertThat(canonical("::")).isEqualTo("::");
    assertThat(canonical("1:0:0:0:0:0:0:0")).isEqualTo("1::");
    assertThat(canonical("2001:db8:0:1:1:1:1:1")).isEqualTo("2001:db8:0:1:1:1:1:1");  // a lone zero group stays
    assertThat(canonical("::ffff:10.0.0.5")).isEqualTo("::ffff:a00:5");
    // the bytes of the JDK's own parse give the same text
    assertThat(Ipv6Text.canonical(Ipv6Text.groups(InetAddress.getByName("2001:0DB8:0:0::5").getAddress())))
        .isEqualTo("2001:db8::5");
  }

  @Test
  void whatIsNoIpv6AddressIsNone() {
    for (String text : new String[] {"1:2:3", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::1", "::1.2.3.256", "1.2.3.4::",
        "10.0.0.5", "web01", "[::1]", "fe80::1%eth0", "2001:DB8::1"}) {
      assertThat(Ipv6Text.parse(text)).as(text).isNull();
    }
    assertThatThrownBy(() -> Ipv6Text.groups(new byte[4])).isInstanceOf(IllegalArgumentException.class);
  }
}
