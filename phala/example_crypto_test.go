package phala_test

import (
	"encoding/hex"
	"fmt"
	"log"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
)

// Encrypting the variables of a .env file for a CVM.
func ExampleEncryptEnvVars() {
	const dotenv = `
# database
DB_URL=postgres://db:5432/app
export API_KEY="s3cr3t"
GREETING='hello world' # a comment
`
	envs, err := phala.ParseEnvFile(strings.NewReader(dotenv))
	if err != nil {
		log.Fatal(err)
	}
	// The app's env-encryption public key, from kms_info.encrypted_env_pubkey.
	const pubkey = "0x7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13"
	encrypted, err := phala.EncryptEnvVars(envs, pubkey)
	if err != nil {
		log.Fatal(err)
	}
	// The ciphertext is random; its size is not.
	raw, _ := hex.DecodeString(encrypted)
	fmt.Println("env_keys:", phala.EnvKeys(envs))
	fmt.Println("bytes:", len(raw))
	fmt.Println("printed:", envs[1])
	// Output:
	// env_keys: [DB_URL API_KEY GREETING]
	// bytes: 195
	// printed: API_KEY=[REDACTED]
}

func ExampleComposeHash() {
	appCompose := []byte(`{
		"runner": "docker-compose",
		"docker_compose_file": "services:\n  app:\n    image: nginx:latest\n",
		"manifest_version": 2,
		"name": "demo",
		"allowed_envs": ["FOO"],
		"kms_enabled": true,
		"gateway_enabled": true,
		"public_logs": true,
		"public_sysinfo": true
	}`)
	h, err := phala.ComposeHash(appCompose)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h)
	h, err = phala.DumpAppComposeHash(appCompose)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h)
	// Output:
	// 01571802d0a27c276d1a4cf10b470db2201041f273ee255a1a2e7ac0dcb64671
	// d1052ab743eac5393dceb3ca488024607881eab6ddb2c8d8bbb4025b5de1d715
}

func ExampleVerifyEnvEncryptPublicKey() {
	pub, _ := hex.DecodeString("e33a1832c6562067ff8f844a61e51ad051f1180b66ec2551fb0251735f3ee90a")
	sig, _ := hex.DecodeString("8542c49081fbf4e03f62034f13fbf70630bdf256a53032e38465a27c36fd6bed7a5e7111652004aef37f7fd92fbfc1285212c4ae6a6154203a48f5e16cad2cef00")
	signer, err := phala.VerifyEnvEncryptPublicKey(pub, sig, "app_0000000000000000000000000000000000000000")
	if err != nil {
		log.Fatal(err)
	}
	// Compare with the KMS signer you trust before using the key.
	fmt.Println(signer)
	// Output:
	// 0x0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f
}
