package phala_test

import (
	"context"
	"fmt"
	"log"

	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func ExampleClient_UpdateCVMListed() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	if err := client.UpdateCVMListed(ctx, "my-app", true); err != nil {
		log.Fatal(err)
	}
	info, err := client.GetCVMInfo(ctx, "my-app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Listed, info.Status)
	// Output: true running
}

// Check the status first: an upgrade has something to do only when the CVM
// runs an official script that is not the latest. On an on-chain KMS the
// upgrade takes the two phases of every compose-hash change
// (onchain.PreLaunchScriptUpgradeChange runs them with an Updater).
func ExampleClient_UpgradePreLaunchScript() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app",
		PreLaunchScript: phalatest.OfficialPreLaunchScripts()[0]}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	st, err := client.GetPreLaunchScriptUpgradeStatus(ctx, "my-app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("official:", st.IsOfficial, "latest:", st.IsLatest, "can upgrade:", st.CanUpgrade)
	if st.CanUpgrade {
		res, err := client.UpgradePreLaunchScript(ctx, "my-app", nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.Status)
		if _, err := client.WaitForUpdate(ctx, "my-app", res, nil); err != nil {
			log.Fatal(err)
		}
	}
	st, err = client.GetPreLaunchScriptUpgradeStatus(ctx, "my-app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("latest:", st.IsLatest)
	// Output:
	// official: true latest: false can upgrade: true
	// in_progress
	// latest: true
}
