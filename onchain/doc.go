// Package onchain is the Ethereum side of Phala Cloud's on-chain KMS.
package onchain
