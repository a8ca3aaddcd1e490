import { CsvImportService } from '../src/csv-import-service';

const service = new CsvImportService();

afterAll(() => service.close());

test('counts the orders that are not cancelled', async () => {
  const csv = ['id,status', '1,paid', '2,cancelled', '3,shipped'].join('\n');

  await expect(service.importOrders(csv)).resolves.toBe(2);
});
