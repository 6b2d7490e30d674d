module lastgasp.test/gopanic

go 1.22
