// ed25519 key pairs from ssh2's generator, checked: ssh2 1.17 drops leading zero bytes of
// the public key (mscdex/ssh2#1513, #1390), so about 1 pair in 256 cannot be parsed back.
// We generate again until both halves parse.
import ssh2 from 'ssh2';

const { utils } = ssh2;

export interface KeyPairText {
  /** OpenSSH private key (PEM-like text). */
  private: string;
  /** `ssh-ed25519 AAAA... comment` */
  public: string;
}

export function generateEd25519(opts: { comment?: string; passphrase?: string } = {}): KeyPairText {
  for (let i = 0; i < 64; i++) {
    const kp = opts.passphrase
      ? utils.generateKeyPairSync('ed25519', { comment: opts.comment, passphrase: opts.passphrase, cipher: 'aes256-ctr', rounds: 16 })
      : utils.generateKeyPairSync('ed25519', { comment: opts.comment });
    const pub = utils.parseKey(kp.public);
    const priv = utils.parseKey(kp.private, opts.passphrase);
    if (!(pub instanceof Error) && !(priv instanceof Error)) return { private: kp.private, public: kp.public };
  }
  throw new Error('could not generate a valid ed25519 key pair');
}
