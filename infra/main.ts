// The Pulumi program entry named in Pulumi.yaml. `dynoform up` runs the same program inline.
import { appProgram } from "./program";

export = appProgram();
