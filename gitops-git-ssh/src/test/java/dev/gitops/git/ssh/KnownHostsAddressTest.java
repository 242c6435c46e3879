package dev.gitops.git.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KnownHostsAddressTest {

  @Test
  void ipv6AddressesAreWrittenAsOpenSshWritesThem() {
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[0:0:0:0:0:0:0:1]:2222")).isEqualTo("[::1]:2222");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("0:0:0:0:0:0:0:1")).isEqualTo("::1");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[fd00:0:0:0:0:0:0:2]:22")).isEqualTo("fd00::2");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[2001:db8:0:1:0:0:0:1]:2200")).isEqualTo("[2001:db8:0:1::1]:2200");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("2001:db8:0:1:1:1:1:1")).as("one zero group stays 0")
        .isEqualTo("2001:db8:0:1:1:1:1:1");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[FE80:0:0:0:0:0:0:1]:22")).isEqualTo("fe80::1");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("[127.0.0.1]:2222")).isEqualTo("[127.0.0.1]:2222");
    assertThat(KnownHostsDatabase.asOpenSshWritesIt("git.example.com")).isEqualTo("git.example.com");
  }

  @Test
  void hostFieldsAreMatchedAsOpenSshMatchesThemAgainstHostOrBracketedHostAndPort() throws Exception {
    assertThat(KnownHostsDatabase.hostMatches("*", "[127.0.0.1]:2222")).as("* covers every port").isTrue();
    assertThat(KnownHostsDatabase.hostMatches("[127.0.0.1]:*", "[127.0.0.1]:2222")).isTrue();
    assertThat(KnownHostsDatabase.hostMatches("127.0.0.1", "[127.0.0.1]:2222")).as("port 22 only").isFalse();
    assertThat(KnownHostsDatabase.hostMatches("*.example.com,!bad.example.com", "git.EXAMPLE.com")).isTrue();
    assertThat(KnownHostsDatabase.hostMatches("*.example.com,!bad.example.com", "bad.example.com")).isFalse();
    assertThat(KnownHostsDatabase.hostMatches("git?.example.com", "git1.example.com")).isTrue();
    assertThat(KnownHostsDatabase.hostMatches("git?.example.com", "git.example.com")).isFalse();
    // what ssh-keygen -H writes: |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    byte[] salt = "0123456789abcdefghij".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
    mac.init(new javax.crypto.spec.SecretKeySpec(salt, "HmacSHA1"));
    String hashed = "|1|" + java.util.Base64.getEncoder().encodeToString(salt) + "|"
        + java.util.Base64.getEncoder().encodeToString(mac.doFinal("[git.example.com]:2222".getBytes()));
    assertThat(KnownHostsDatabase.hostMatches(hashed, "[git.example.com]:2222")).isTrue();
    assertThat(KnownHostsDatabase.hostMatches(hashed, "git.example.com")).isFalse();
    assertThat(KnownHostsDatabase.hostMatches("|1|not base64|x", "git.example.com")).isFalse();
  }

  @Test
  void aLineThatCannotBeReadIsSkippedAndTheRestOfTheFileStillCounts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    java.security.PublicKey key = g.generateKeyPair().getPublic();
    String entry = org.apache.sshd.common.config.keys.PublicKeyEntry.toString(key);
    java.nio.file.Path file = tmp.resolve("known_hosts");
    java.nio.file.Files.writeString(file, "garbage\n[other]:22x ssh-ed25519 notbase64\n@cert-authority * " + entry
        + "\n[127.0.0.1]:* " + entry + "\n");
    KnownHostsDatabase db = new KnownHostsDatabase(file, true);
    assertThat(db.accept("[127.0.0.1]:2222", null, key, null, null)).as(db.takeRejection() + "").isTrue();
    // a comment in Latin-1 (no UTF-8) is read past, as OpenSSH reads bytes
    java.nio.file.Files.write(file, ("# caf\u00e9\n[127.0.0.1]:2222 " + entry + " h\u00f4te\n")
        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThat(db.accept("[127.0.0.1]:2222", null, key, null, null)).as(db.takeRejection() + "").isTrue();
    java.nio.file.Files.writeString(file, "[127.0.0.1]:2222 " + entry + "\n");
    assertThat(db.accept("127.0.0.2", null, key, null, null)).isFalse();
    assertThat(db.takeRejection()).startsWith("unknown SSH host 127.0.0.2 port 22");

    java.nio.file.Files.writeString(file, "[127.0.0.1]:2222 " + entry + "\n@revoked * " + entry + "\n");
    assertThat(db.accept("[127.0.0.1]:2222", null, key, null, null)).as("revoked on every port, listed or not").isFalse();
    assertThat(db.takeRejection()).contains("is marked @revoked in the known_hosts file " + file);
  }
}
