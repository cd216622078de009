// The gateway's composition root: the domain modules every gateway runs. The gateway itself
// imports none of them (it knows no domain); its entry point, the local stack and the test
// buses hand this list to startGateway().
import type { GatewayModule } from '../platform/gateway-module.js';
import { documentExchangeModule } from '../document-exchange/routes/document-exchange.js';
import { dossierExchangeModule } from '../dossier-exchange/dossier-module.js';

export const gatewayModules: readonly GatewayModule[] = [documentExchangeModule, dossierExchangeModule];
