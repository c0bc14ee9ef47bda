package phala_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// Pin the KMS's signer for one call: the key the secrets are encrypted to
// must carry a signature that recovers exactly this signer. The fake
// publishes its KMS signer as Server.KMSSigner; for Phala Cloud, read it
// from the KMS contract (kmsInfo().k256Pubkey) or another source you trust.
func ExamplePinnedSigner() {
	srv := phalatest.NewServer(phalatest.WithUpdateDelay(0), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "pinned-app", ChainID: 8453, AllowedEnvs: []string{"DB_PASSWORD"}}))
	defer srv.Close()
	client := srv.Client()

	anchor, err := phala.PinnedSigner(srv.KMSSigner())
	if err != nil {
		log.Fatal(err)
	}
	// Named by its app id: the key is trusted only for an app you named.
	seed, _ := srv.CVM("pinned-app")
	result, err := client.EncryptAndUpdateEnvs(context.Background(), "app_"+seed.AppID, []phala.EnvVar{{Key: "DB_PASSWORD", Value: "s3cr3t"}},
		&phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: anchor}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(result.Status)
	fmt.Println("verified:", result.EnvKey.SignerVerified, result.EnvKey.Signer == strings.ToLower(srv.KMSSigner()))
	fmt.Println(strings.HasPrefix(result.EnvKey.Anchor, "pinned signer 0x"))
	// Output:
	// in_progress
	// verified: true true
	// true
}

// A client-wide anchor applies to every GetEnvEncryptPublicKey and
// EncryptAndUpdateEnvs call that gives none; a signature by any other signer is
// refused with ErrKeyVerification, naming both signers.
func ExampleWithKeyAnchor() {
	srv := phalatest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	anchor, err := phala.PinnedSigner(srv.KMSSigner())
	if err != nil {
		log.Fatal(err)
	}
	client := srv.Client(phala.WithKeyAnchor(anchor))
	seed, _ := srv.CVM(phalatest.OnChainCVMName)
	app := "app_" + seed.AppID // the CVM named by its app id
	key, err := client.GetEnvEncryptPublicKey(ctx, app, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("on-chain:", key.OnChain, "verified:", key.SignerVerified)

	// The same client pinned to some other signer refuses the fake's key.
	other, err := phala.PinnedSigner("0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
	if err != nil {
		log.Fatal(err)
	}
	_, err = srv.Client(phala.WithKeyAnchor(other)).GetEnvEncryptPublicKey(ctx, app, nil)
	var kve *phala.KeyVerificationError
	fmt.Println(errors.Is(err, phala.ErrKeyVerification), errors.As(err, &kve) && kve.TrustedSigner == "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
	// Output:
	// on-chain: true verified: true
	// true true
}

// Without an anchor, an on-chain KMS's key is refused before anything is
// encrypted. InsecureTrustAPISigner opts out of the check: the API (or
// anyone between you and it) then chooses the key, and the result says so.
func ExampleInsecureTrustAPISigner() {
	srv := phalatest.NewServer(phalatest.WithUpdateDelay(0))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	envs := []phala.EnvVar{{Key: "FOO", Value: "bar"}}

	_, err := client.EncryptAndUpdateEnvs(ctx, phalatest.OnChainCVMName, envs, nil)
	fmt.Println(errors.Is(err, phala.ErrKeyVerification))

	result, err := client.EncryptAndUpdateEnvs(ctx, phalatest.OnChainCVMName, envs,
		&phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: phala.InsecureTrustAPISigner()}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(result.EnvKey.Anchor, result.EnvKey.SignerVerified)
	// Output:
	// true
	// InsecureTrustAPISigner (the API chooses the key) false
}

// chainConfig is a KeyAnchor of the caller's own: here a table of the KMS
// contracts the caller trusts, each with the signer it publishes.
type chainConfig map[string]string // "chain/contract" -> signer

func (c chainConfig) TrustedSigner(_ context.Context, kms phala.KMSRef) (string, error) {
	if kms.ChainID == nil {
		return "", errors.New("not an on-chain KMS")
	}
	signer, ok := c[fmt.Sprintf("%d/%s", *kms.ChainID, strings.ToLower(kms.ContractAddress))]
	if !ok {
		return "", fmt.Errorf("KMS contract %s on chain %d is not one I trust", kms.ContractAddress, *kms.ChainID)
	}
	return signer, nil
}

func (c chainConfig) String() string { return "my KMS table" }

// Any source of trusted signers can be a KeyAnchor: the SDK asks it before
// fetching the KMS key, and an error stops the call before anything is
// encrypted or sent.
func ExampleKeyAnchor() {
	srv := phalatest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	info, err := srv.Client().GetCVMInfo(ctx, phalatest.OnChainCVMName)
	if err != nil {
		log.Fatal(err)
	}
	trusted := chainConfig{"8453/" + strings.ToLower(info.KMSInfo.KMSContractAddress): srv.KMSSigner()}
	// The app whose key may encrypt is one you name: in real use, the app
	// id you recorded when you deployed the CVM.
	opts := &phala.EnvKeyOptions{AppID: info.AppID}

	key, err := srv.Client(phala.WithKeyAnchor(trusted)).GetEnvEncryptPublicKey(ctx, phalatest.OnChainCVMName, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Anchor, key.SignerVerified)

	_, err = srv.Client(phala.WithKeyAnchor(chainConfig{})).GetEnvEncryptPublicKey(ctx, phalatest.OnChainCVMName, opts)
	fmt.Println(errors.Is(err, phala.ErrKeyVerification))
	// Output:
	// my KMS table true
	// true
}
