const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;

/** Whether text is one OpenSSH public key line (type, base64, optional comment); surrounding blanks allowed. */
export function isOpenSshPublicKey(text: string): boolean {
  return PUBLIC_KEY.test(text.trim());
}
