// The package's exports map hides its types from TypeScript under NodeNext, and a
// tsconfig `paths` entry under the package's own name would also redirect tsx at run
// time (to the .d.ts, leaving no exports). So the code imports the package itself and
// takes the types through the `#types/signalwire` alias, which only the compiler sees.
import * as sdk from "@signalwire/compatibility-api";
import type * as Types from "#types/signalwire";

export const { RestClient } = sdk as unknown as typeof Types;
