module lastgasp.test/pcln

go 1.22
