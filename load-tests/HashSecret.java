// Prints the PBKDF2 hash of a client secret, for the harness's generated config:
//   java --class-path token-broker/target/token-broker-*.jar load-tests/HashSecret.java SECRET
public class HashSecret {
  public static void main(String[] args) {
    System.out.println(io.portcullis.broker.SecretHasher.hash(args[0].toCharArray()));
  }
}
